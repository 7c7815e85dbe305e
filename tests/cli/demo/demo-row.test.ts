import t from 'tap';
import { printableLine } from '../../../runtime/cli/demo/demo-row.ts';

t.test('printableLine shows control and bidirectional characters instead of sending them to the terminal', async (t) => {
  t.equal(printableLine('red \u001b[31mtext\u001b[0m'), 'red \\x1b[31mtext\\x1b[0m');
  t.equal(printableLine('a\u009bb'), 'a\\x9bb', 'a C1 control (CSI) too');
  t.equal(printableLine('file\u202etxt.exe'), 'file\\u202etxt.exe', 'a right-to-left override');
  t.equal(printableLine(' two\n lines\t'), 'two lines', 'whitespace runs become one space');
});

t.test('printableLine never shortens a reason', async (t) => {
  const reason = `Requires read access to "/${'x'.repeat(500)}"`;
  t.equal(printableLine(reason), reason);
});
