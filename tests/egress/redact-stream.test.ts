import { Readable } from 'node:stream';
import fc from 'fast-check';
import t from 'tap';
import { createRedactor, redactHeaderValue, redactInPlace, redactionPatterns } from '../../runtime/egress/interception/redact-stream.ts';

/** Streams `chunks` through a redactor and collects what comes out, chunk by chunk. */
async function throughRedactor(patterns: Buffer[], chunks: Buffer[]): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const chunk of Readable.from(chunks).pipe(createRedactor(patterns))) out.push(chunk as Buffer);
  return out;
}

const patterns = redactionPatterns(['Bearer s3cr3t', 's3cr3t']);

t.test('every occurrence becomes as many asterisks, overlapping patterns masked whole', async (t) => {
  t.equal(redactInPlace(Buffer.from('a s3cr3t b s3cr3ts3cr3t'), patterns).toString(), 'a ****** b ************');
  t.equal(redactInPlace(Buffer.from('Authorization: Bearer s3cr3t'), patterns).toString(), 'Authorization: *************');
  t.equal(redactInPlace(Buffer.from('nothing here'), patterns).toString(), 'nothing here');
});

t.test('a header value is matched as its latin1 bytes, multi-byte secrets included', async (t) => {
  const unicode = redactionPatterns(['sécret']);
  // Node hands over the UTF-8 bytes of a header value one latin1 character each.
  const onTheWire = Buffer.from('x sécret y', 'utf8').toString('latin1');
  t.equal(redactHeaderValue(onTheWire, unicode), 'x ******* y', 'seven bytes, seven asterisks');
  t.equal(redactHeaderValue('token=s3cr3t; Path=/', patterns), 'token=******; Path=/');
});

t.test('empty patterns are dropped: they would match everywhere and hide nothing', async (t) => {
  t.same(redactionPatterns(['', 'x']), [Buffer.from('x')]);
  t.same(Buffer.concat(await throughRedactor([], [Buffer.from('as'), Buffer.from('is')])).toString(), 'asis');
});

t.test('the redactor masks a secret split at every possible chunk boundary', async (t) => {
  const text = 'head Bearer s3cr3t middle s3cr3t tail';
  for (let cut = 0; cut <= text.length; cut++) {
    const out = await throughRedactor(patterns, [Buffer.from(text.slice(0, cut)), Buffer.from(text.slice(cut))]);
    t.equal(Buffer.concat(out).toString(), 'head ************* middle ****** tail', `cut at ${cut}`);
  }
});

t.test('the redactor masks a secret arriving one byte at a time, and lets held-back bytes go at the end', async (t) => {
  const text = 'xs3cr3ts3cr3';
  const out = await throughRedactor(patterns, [...Buffer.from(text)].map((byte) => Buffer.from([byte])));
  t.equal(Buffer.concat(out).toString(), 'x******s3cr3', 'a prefix of the secret at the very end is only a prefix');
});

t.test('streamed in any chunks, the output is the whole-buffer redaction, byte for byte and length for length', async (t) => {
  const alphabet = fc.constantFrom('s', '3', 'c', 'r', 't', 'B', 'e', 'a', ' ', 'x', 's3cr3t', 'Bearer ');
  await fc.assert(
    fc.asyncProperty(fc.array(alphabet, { maxLength: 40 }), fc.array(fc.nat(50), { maxLength: 8 }), async (parts, cuts) => {
      const whole = Buffer.from(parts.join(''));
      const points = [...new Set(cuts.map((cut) => cut % (whole.length + 1)))].sort((a, b) => a - b);
      const chunks = [0, ...points].map((start, i) => whole.subarray(start, [...points, whole.length][i]));
      const streamed = Buffer.concat(await throughRedactor(patterns, chunks));
      const expected = redactInPlace(Buffer.from(whole), patterns);
      return streamed.equals(expected) && streamed.length === whole.length;
    }),
  );
});

t.test('a secret that overlaps itself is masked whole even when the overlap spans chunks', async (t) => {
  const selfOverlapping = redactionPatterns(['abcab']);
  await fc.assert(
    fc.asyncProperty(fc.array(fc.constantFrom('a', 'b', 'c', 'abcab'), { maxLength: 30 }), fc.array(fc.nat(60), { maxLength: 10 }), async (parts, cuts) => {
      const whole = Buffer.from(parts.join(''));
      const points = [...new Set(cuts.map((cut) => cut % (whole.length + 1)))].sort((a, b) => a - b);
      const chunks = [0, ...points].map((start, i) => whole.subarray(start, [...points, whole.length][i]));
      const streamed = Buffer.concat(await throughRedactor(selfOverlapping, chunks));
      return streamed.equals(redactInPlace(Buffer.from(whole), selfOverlapping));
    }),
  );
  const out = await throughRedactor(selfOverlapping, [Buffer.from('abcab'), Buffer.from('cab')]);
  t.equal(Buffer.concat(out).toString(), '********');
});
