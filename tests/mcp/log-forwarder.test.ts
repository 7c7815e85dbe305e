import t from 'tap';
import { type LogParams, LogForwarder, PLUGIN_LOG_LEVEL } from '../../runtime/mcp/log-forwarder.ts';

function clock() {
  let now = 0;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

const line = (text: string) => ({ plugin: 'echo', tool: 'echo', launchId: '01J0000000000000000000000Z', line: text });

t.test('LogForwarder sends each plugin line tagged <plugin>/<tool>', async (t) => {
  const sent: LogParams[] = [];
  const forwarder = new LogForwarder((params) => sent.push(params), 10, clock());
  forwarder.line(line('hello'));
  t.same(sent, [{ level: PLUGIN_LOG_LEVEL, logger: 'echo/echo', data: 'hello' }]);
});

t.test('LogForwarder drops lines over the rate and says how many before the next one it sends', async (t) => {
  const sent: LogParams[] = [];
  const time = clock();
  const forwarder = new LogForwarder((params) => sent.push(params), 3, time);
  for (let i = 0; i < 10; i++) forwarder.line(line(`burst ${i}`));
  t.same(sent.map(({ data }) => data), ['burst 0', 'burst 1', 'burst 2']);
  t.equal(forwarder.droppedTotal, 7);
  time.advance(1000);
  forwarder.line(line('after'));
  t.match(sent.slice(3), [{ level: 'warning', data: /^7 plugin log lines dropped/ }, { data: 'after' }]);
});
