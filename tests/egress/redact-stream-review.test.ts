import t from 'tap';
import { redactHeaderName, redactionPatterns } from '../../runtime/egress/interception/redact-stream.ts';

// Header names are case-insensitive, and a front may rewrite them to lower case: a secret
// echoed into a name is masked in whatever case it comes back.

t.test('redactHeaderName masks the secret in a name in any letter case, keeping its length and the rest', async (t) => {
  const patterns = redactionPatterns(['Bearer Sk-MixedCase9', 'Sk-MixedCase9']);
  t.equal(redactHeaderName('X-Echo-Sk-MixedCase9', patterns), `X-Echo-${'*'.repeat(13)}`);
  t.equal(redactHeaderName('x-echo-sk-mixedcase9', patterns), `x-echo-${'*'.repeat(13)}`, 'lower-cased by a front');
  t.equal(redactHeaderName('X-ECHO-SK-MIXEDCASE9-TAIL', patterns), `X-ECHO-${'*'.repeat(13)}-TAIL`);
  t.equal(redactHeaderName('Content-Type', patterns), 'Content-Type', 'a name without it is untouched');
});
