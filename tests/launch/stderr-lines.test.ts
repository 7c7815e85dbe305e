import { PassThrough } from 'node:stream';
import t from 'tap';
import { StderrLines } from '../../runtime/launch/stderr-lines.ts';
import { printableText } from '../../runtime/printable-text.ts';

const limits = { maxLineBytes: 16, linesPerSecond: 5, tailLines: 3 };

function capture(limitsOverride = limits) {
  const stream = new PassThrough();
  const lines: string[] = [];
  const stderr = new StderrLines(stream, limitsOverride, (line) => lines.push(line));
  return { stream, lines, stderr };
}

t.test('StderrLines splits chunks into lines, joining a line split across chunks', async (t) => {
  const { stream, lines } = capture({ ...limits, maxLineBytes: 100 });
  stream.write('one\ntw');
  stream.write('o\nthree');
  stream.end();
  await new Promise((resolve) => stream.on('end', resolve));
  t.same(lines, ['one', 'two', 'three']);
});

t.test('StderrLines cuts a long line instead of buffering it', async (t) => {
  const { stream, lines } = capture();
  stream.write('x'.repeat(10_000));
  stream.write('\n');
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(lines.length, 1);
  t.match(lines[0]!, /^x{16} …\[truncated\]$/);
});

t.test('StderrLines drops lines past the rate cap and keeps a bounded tail', async (t) => {
  const { stream, lines, stderr } = capture();
  stream.write(Array.from({ length: 50 }, (_, i) => `line ${i}\n`).join(''));
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(lines.length, 5, 'only the allowed lines reach the sink');
  t.equal(stderr.dropped, 45, 'the rest are counted');
  t.same(stderr.tail(), ['line 2', 'line 3', 'line 4']);
});

t.test('StderrLines escapes terminal control sequences from the plugin', async (t) => {
  const { stream, lines } = capture({ ...limits, maxLineBytes: 200 });
  stream.write('\u001b[2J\u001b[1;1Hforged\rline\u0007\n');
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(lines.length, 1);
  t.notMatch(lines[0]!, /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/, 'no control character survives');
  t.match(lines[0]!, /\\u001b\[2J/);
});

t.test('printableText turns newlines into escapes so one message cannot forge a second log line', async (t) => {
  t.equal(printableText('ok\n[host] all good'), 'ok\\u000a[host] all good');
  t.equal(printableText('tab\tkept'), 'tab\tkept');
});

t.test('StderrLines reports lines dropped by a flood that ends the stream', async (t) => {
  const { stream, lines } = capture();
  stream.end(Array.from({ length: 20 }, (_, i) => `line ${i}\n`).join(''));
  await new Promise((resolve) => stream.on('end', resolve));
  t.equal(lines.at(-1), '[15 stderr lines dropped: over 5 lines/s]');
});
