import t from 'tap';
import { wrapIndented, wrapText } from '../../../runtime/cli/demo/wrap-text.ts';

t.test('wrapText breaks at spaces and keeps every word whole', async (t) => {
  t.same(wrapText('Requires read access to "/etc/passwd"', 20), ['Requires read access', 'to "/etc/passwd"']);
  const path = '/a/very/long/path/that/does/not/fit/anywhere.js';
  t.same(wrapText(`read ${path} refused`, 10), ['read', path, 'refused'], 'a word wider than the line keeps a line of its own');
  t.same(wrapText('', 10), ['']);
});

t.test('wrapIndented indents every line and hangs the continuations', async (t) => {
  t.same(wrapIndented('one two three four', 12, 2, 2), ['  one two', '    three', '    four']);
});
