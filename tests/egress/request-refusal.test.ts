import t from 'tap';
import { refusalFor, upgradeRefusal } from '../../runtime/egress/interception/request-refusal.ts';

const target = { host: 'api.test', port: 8443, header: 'Authorization' };
const request = (rawHeaders: string[], url = '/v1/things', method = 'GET') => ({ method, url, rawHeaders });

t.test('a request for a path on the CONNECT host, without the injected header, is forwarded', async (t) => {
  t.equal(refusalFor(request(['Host', 'api.test:8443', 'Accept', '*/*']), target), null);
  t.equal(refusalFor(request(['host', 'API.test.:8443']), target), null, 'case and a trailing dot do not matter');
  t.equal(refusalFor(request(['Host', 'api.test:8443'], '*', 'OPTIONS'), target), null);
  t.equal(refusalFor(request(['Host', 'api.test']), { ...target, port: 443 }), null, 'no port in Host means 443');
  t.equal(refusalFor(request(['Host', '[::1]:8443']), { ...target, host: '0:0::1' }), null, 'one IPv6 address, two spellings');
});

t.test('the injected header sent by the tool is refused, in any case and any count', async (t) => {
  for (const name of ['Authorization', 'authorization', 'AUTHORIZATION']) {
    t.match(refusalFor(request(['Host', 'api.test:8443', name, 'Bearer mine']), target), /Authorization header is injected by the host/);
  }
  t.match(refusalFor(request(['Host', 'api.test:8443', 'authorization', '', 'Authorization', 'x']), target), /injected/);
});

t.test('a target that is not a path, or a Host naming another site or port, is refused', async (t) => {
  t.match(refusalFor(request(['Host', 'api.test:8443'], 'https://evil.test/'), target), /must be a path on api.test/);
  t.match(refusalFor(request(['Host', 'api.test:8443'], '*'), target), /must be a path/, '* is for OPTIONS only');
  t.match(refusalFor(request(['Host', 'evil.test:8443']), target), /Host header must name api.test/);
  t.match(refusalFor(request(['Host', 'api.test:9999']), target), /Host header/);
  t.match(refusalFor(request(['Host', 'api.test']), target), /Host header/, 'no port means 443, not 8443');
  t.match(refusalFor(request(['Host', 'api.test.evil.test:8443']), target), /Host header/);
  t.match(refusalFor(request(['Host', 'api.test:8443', 'Host', 'evil.test:8443']), target), /Host header/, 'two Host headers');
  t.match(refusalFor(request([]), target), /Host header/);
  t.match(refusalFor(request(['Host', 'api.test:8443@evil']), target), /Host header/);
});

t.test('upgrades and CONNECT are refused with a reason of their own', async (t) => {
  t.match(upgradeRefusal('GET', target), /upgrades \(WebSocket\) are refused on api.test/);
  t.match(upgradeRefusal('CONNECT', target), /CONNECT inside the connection to api.test/);
});
