import t from 'tap';
import { MAX_PROGRESS_MESSAGE_CHARS } from '../../plugin-sdk/protocol/constants.ts';
import type { ProgressMessage } from '../../plugin-sdk/protocol/messages.ts';
import { progressReporter } from '../../plugin-sdk/internal/progress-reporter.ts';
import { waitFor } from '../helpers/wait-for.ts';

// The SDK's side of progress: what a plugin's ctx.progress sends. Runs here in Node; the
// module uses nothing Deno-specific.

function reporter(perSecond = 1000, signal = new AbortController().signal) {
  const sent: ProgressMessage[] = [];
  return { sent, progress: progressReporter('c1', perSecond, signal, (message) => sent.push(message)) };
}

t.test('ctx.progress sends a rising report at once, with total and message when given', async (t) => {
  const { sent, progress } = reporter();
  progress.report(0, 10, 'starting');
  t.same(sent, [{ type: 'progress', id: 'c1', done: 0, total: 10, message: 'starting' }]);
});

t.test('ctx.progress throws RangeError for a value that does not rise, a total below done, or a non-finite value', async (t) => {
  const { sent, progress } = reporter();
  progress.report(5);
  t.throws(() => progress.report(5), RangeError);
  t.throws(() => progress.report(4), RangeError);
  t.throws(() => progress.report(7, 6), RangeError);
  t.throws(() => progress.report(Number.NaN), RangeError);
  t.throws(() => progress.report(Number.POSITIVE_INFINITY), RangeError);
  t.throws(() => progress.report(-1), RangeError);
  t.throws(() => progress.report('8' as unknown as number), RangeError);
  t.equal(sent.length, 1, 'nothing more was sent');
});

t.test('ctx.progress coalesces reports faster than the host forwards: the latest waits its turn', async (t) => {
  const { sent, progress } = reporter(20);
  for (let done = 1; done <= 6; done++) progress.report(done, 6);
  t.same(sent.map(({ done }) => done), [1], 'the first at once');
  await waitFor('the coalesced report', () => sent.length === 2);
  t.same(sent.map(({ done }) => done), [1, 6], 'then only the latest');
});

t.test('ctx.progress sends nothing once the call has ended, a waiting report included', async (t) => {
  const { sent, progress } = reporter(20);
  progress.report(1);
  progress.report(2);
  progress.end();
  progress.report(3);
  await new Promise((resolve) => setTimeout(resolve, 120));
  t.same(sent.map(({ done }) => done), [1]);
});

t.test('ctx.progress sends nothing for a cancelled call, and cuts a long message', async (t) => {
  const controller = new AbortController();
  const { sent, progress } = reporter(1000, controller.signal);
  progress.report(1, undefined, 'x'.repeat(MAX_PROGRESS_MESSAGE_CHARS + 50));
  t.equal(sent[0]!.message!.length, MAX_PROGRESS_MESSAGE_CHARS);
  controller.abort();
  progress.report(2);
  t.equal(sent.length, 1);
});
