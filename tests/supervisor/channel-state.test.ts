import t from 'tap';
import { channelStateOf } from '../../runtime/supervisor/tool-process-options.ts';

t.test('channelStateOf derives the channel state from the one process state and the handshake', async (t) => {
  t.equal(channelStateOf('launching', 'hello'), 'handshaking');
  t.equal(channelStateOf('handshaking', 'hello'), 'handshaking');
  t.equal(channelStateOf('handshaking', 'register'), 'registering', 'welcome sent, registration awaited');
  t.equal(channelStateOf('ready', 'done'), 'ready');
  t.equal(channelStateOf('draining', 'done'), 'draining');
  t.equal(channelStateOf('draining', 'register'), 'draining', 'a process stopped mid-handshake drains');
  t.equal(channelStateOf('stopped', 'done'), 'closed');
  t.equal(channelStateOf('crashed', 'hello'), 'closed');
});
