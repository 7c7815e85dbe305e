import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import t, { type Test } from 'tap';
import { CA_LIFETIME_MS, createCertificateAuthority, LEAF_LIFETIME_MS, type LeafCertificate } from '../../runtime/egress/certificates/certificate-authority.ts';
import { oid } from '../../runtime/egress/certificates/der.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** One decoded TLV; constructed ones with their children. */
interface Tlv {
  tag: number;
  value: Buffer;
  children: Tlv[];
}

/** A reader just big enough to check what the certificates say, independent of Node's parser. */
function readTlv(data: Buffer, start = 0): [Tlv, number] {
  const tag = data[start] ?? 0;
  let length = data[start + 1] ?? 0;
  let at = start + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (data[at++] ?? 0);
  }
  const value = data.subarray(at, at + length);
  const children: Tlv[] = [];
  if (tag & 0x20) for (let inner = 0; inner < value.length; ) [children[children.length], inner] = readTlv(value, inner);
  return [{ tag, value, children }, at + length];
}

function der(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
}

/** The tbsCertificate's fields and its extensions by OID (their encodings, critical flag apart). */
function dissect(pem: string): { serial: Buffer; signatureAlgorithm: Buffer; extensions: Map<string, { critical: boolean; value: string }> } {
  const [certificate] = readTlv(der(pem));
  const tbs = certificate.children[0]!;
  const extensions = new Map<string, { critical: boolean; value: string }>();
  const wrapper = tbs.children.find((child) => child.tag === 0xa3)!;
  for (const extension of wrapper.children[0]!.children) {
    const [id, ...rest] = extension.children;
    extensions.set(id!.value.toString('hex'), { critical: rest.length === 2 && rest[0]!.value[0] === 0xff, value: rest.at(-1)!.value.toString('hex') });
  }
  return { serial: tbs.children[1]!.value, signatureAlgorithm: certificate.children[1]!.value, extensions };
}

const extensionId = (dotted: string): string => oid(dotted).subarray(2).toString('hex');

t.test('the CA certificate is a self-signed v3 CA, path length 0, valid an hour back to 30 days on', async (t) => {
  const before = Date.now();
  const ca = createCertificateAuthority();
  const x509 = new X509Certificate(ca.certificatePem);
  t.match(x509.subject, /^CN=Manasvi egress gateway CA [0-9a-f]{8}$/);
  t.equal(x509.issuer, x509.subject);
  t.ok(x509.ca);
  t.ok(x509.verify(x509.publicKey), 'signed by its own key');
  t.ok(x509.checkIssued(x509));
  t.equal(x509.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  // Certificates hold whole seconds.
  t.ok(Math.abs(Date.parse(x509.validFrom) - (before - HOUR_MS)) < 60_000);
  t.ok(Math.abs(Date.parse(x509.validTo) - (before + CA_LIFETIME_MS)) < 60_000);
  t.ok(Math.abs(Date.parse(x509.validTo) - ca.notAfter.getTime()) < 1_000, 'notAfter is the certificate’s');

  const { serial, signatureAlgorithm, extensions } = dissect(ca.certificatePem);
  t.equal(serial.length, 16, '16-byte serial');
  t.equal((serial[0] ?? 0) & 0x80, 0, 'positive');
  t.equal(signatureAlgorithm.toString('hex'), oid('1.2.840.10045.4.3.2').toString('hex'), 'ecdsa-with-SHA256');
  t.same(extensions.get(extensionId('2.5.29.19')), { critical: true, value: '30060101ff020100' }, 'basicConstraints critical, CA:true, pathlen 0');
  t.same(extensions.get(extensionId('2.5.29.15')), { critical: true, value: '03020106' }, 'keyUsage critical keyCertSign + cRLSign');
  t.match(extensions.get(extensionId('2.5.29.14')), { critical: false, value: /^0414[0-9a-f]{40}$/ }, 'subjectKeyIdentifier');
  t.equal(extensions.size, 3);
});

t.test('two CAs differ in name, key and serial', async (t) => {
  const [a, b] = [createCertificateAuthority(), createCertificateAuthority()].map((ca) => new X509Certificate(ca.certificatePem));
  t.not(a!.subject, b!.subject);
  t.not(a!.serialNumber, b!.serialNumber);
  t.notOk(a!.verify(b!.publicKey));
});

t.test('a leaf names exactly its host, is signed by the CA and is for TLS servers only', async (t) => {
  const ca = createCertificateAuthority();
  const caX509 = new X509Certificate(ca.certificatePem);
  const before = Date.now();
  const leaf = new X509Certificate(ca.leafFor('GW.test.').cert);
  t.equal(leaf.subject, 'CN=gw.test');
  t.equal(leaf.subjectAltName, 'DNS:gw.test');
  t.equal(leaf.checkHost('gw.test'), 'gw.test');
  t.equal(leaf.checkHost('other.gw.test'), undefined);
  t.notOk(leaf.ca);
  t.ok(leaf.checkIssued(caX509));
  t.ok(leaf.verify(caX509.publicKey));
  t.same(leaf.keyUsage, ['1.3.6.1.5.5.7.3.1'], 'extKeyUsage serverAuth');
  t.ok(Math.abs(Date.parse(leaf.validFrom) - (before - HOUR_MS)) < 60_000);
  t.ok(Math.abs(Date.parse(leaf.validTo) - (before + LEAF_LIFETIME_MS)) < 60_000);

  const { serial, extensions } = dissect(leaf.toString());
  const caKeyId = dissect(ca.certificatePem).extensions.get(extensionId('2.5.29.14'))!.value.slice(4);
  t.equal(serial.length, 16);
  t.same(extensions.get(extensionId('2.5.29.19')), { critical: true, value: '3000' }, 'basicConstraints critical, CA:false');
  t.same(extensions.get(extensionId('2.5.29.15')), { critical: true, value: '03020780' }, 'keyUsage critical digitalSignature');
  t.same(extensions.get(extensionId('2.5.29.37')), { critical: false, value: '300a06082b06010505070301' });
  t.same(extensions.get(extensionId('2.5.29.17')), { critical: false, value: '3009820767772e74657374' }, 'dNSName gw.test');
  t.same(extensions.get(extensionId('2.5.29.35')), { critical: false, value: `30168014${caKeyId}` }, "authorityKeyIdentifier is the CA's key id");
});

t.test('an IP literal gets an iPAddress subjectAltName; a name too long for a CN gets a critical SAN alone', async (t) => {
  const ca = createCertificateAuthority();
  const v4 = new X509Certificate(ca.leafFor('127.0.0.1').cert);
  t.equal(v4.subjectAltName, 'IP Address:127.0.0.1');
  t.equal(v4.checkIP('127.0.0.1'), '127.0.0.1');
  const v6 = new X509Certificate(ca.leafFor('::1').cert);
  t.equal(v6.checkIP('::1'), '::1');
  t.equal(new X509Certificate(ca.leafFor('2001:db8::ffff:1.2.3.4').cert).checkIP('2001:db8::ffff:102:304'), '2001:db8::ffff:102:304');
  const long = `${'a'.repeat(63)}.${'b'.repeat(20)}.test`;
  const leaf = new X509Certificate(ca.leafFor(long).cert);
  t.notOk(leaf.subject, 'empty subject');
  t.equal(leaf.checkHost(long), long);
  t.equal(dissect(leaf.toString()).extensions.get(extensionId('2.5.29.17'))?.critical, true);
});

t.test('leafFor refuses what is not exactly one host, naming the field', async (t) => {
  const ca = createCertificateAuthority();
  for (const bad of ['', '*.example.com', 'a b.test', 'exa_mple.test', '-lead.test', 'fe80::1%eth0', 'bücher.test', `${'a'.repeat(64)}.test`]) {
    t.throws(() => ca.leafFor(bad), { code: 'config_invalid', details: { source: 'leafFor', issues: [{ path: 'hostname' }] } }, JSON.stringify(bad));
  }
});

t.test('leaves are cached per host, bounded, least recently used first out, and renewed near their end', async (t) => {
  let now = Date.now();
  const ca = createCertificateAuthority({ now: () => now, leafCacheSize: 2 });
  const a: LeafCertificate = ca.leafFor('a.test');
  t.equal(ca.leafFor('A.test'), a, 'the same leaf again, whatever the case');
  ca.leafFor('b.test');
  ca.leafFor('a.test'); // a is now the most recently used
  ca.leafFor('c.test'); // so b goes
  t.equal(ca.leafFor('a.test'), a);
  const b = ca.leafFor('b.test');
  now += LEAF_LIFETIME_MS - DAY_MS + 1_000;
  const renewed = ca.leafFor('b.test');
  t.not(renewed, b, 'a leaf with less than a day left is issued afresh');
  t.ok(Date.parse(new X509Certificate(renewed.cert).validTo) > Date.parse(new X509Certificate(b.cert).validTo));
});

t.test('a leaf never outlives the CA', async (t) => {
  let now = Date.now();
  const ca = createCertificateAuthority({ now: () => now });
  now += CA_LIFETIME_MS - 2 * DAY_MS;
  const leaf = new X509Certificate(ca.leafFor('late.test').cert);
  t.equal(leaf.validTo, new X509Certificate(ca.certificatePem).validTo);
});

t.test('the CA shows its certificate only; writeCertificate writes it 0644 and nothing else', async (t) => {
  const ca = createCertificateAuthority();
  t.same(Object.keys(ca).sort(), ['certificatePem', 'leafFor', 'notAfter', 'writeCertificate']);
  t.ok(Object.isFrozen(ca));
  t.notMatch(JSON.stringify(ca), /PRIVATE/);
  const dir = t.testdir({ 'ca.pem': 'stale' });
  const file = path.join(dir, 'ca.pem');
  const umask = process.umask(0o077);
  try {
    ca.writeCertificate(file);
  } finally {
    process.umask(umask);
  }
  t.equal(readFileSync(file, 'utf8'), ca.certificatePem);
  t.equal(statSync(file).mode & 0o777, 0o644);
});

/** A TLS server on 127.0.0.1 presenting `leaf`, answering each connection with a line; closed at teardown. */
async function tlsServer(t: Test, leaf: LeafCertificate): Promise<number> {
  const server = tls.createServer({ ...leaf }, (socket) => socket.end('hello over tls\n'));
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

/** Connects with `options`; the text read, or the error's code. */
function tlsClient(options: tls.ConnectionOptions): Promise<{ text: string } | { error: string }> {
  return new Promise((resolve) => {
    let text = '';
    const socket = tls.connect(options);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('end', () => resolve({ text }));
    socket.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
  });
}

t.test('a Node TLS client trusting the CA accepts its leaf for gw.test, and refuses it under another CA or name', async (t) => {
  const ca = createCertificateAuthority();
  const port = await tlsServer(t, ca.leafFor('gw.test'));
  t.same(await tlsClient({ host: '127.0.0.1', port, servername: 'gw.test', ca: ca.certificatePem }), { text: 'hello over tls\n' });
  const other = createCertificateAuthority();
  t.same(await tlsClient({ host: '127.0.0.1', port, servername: 'gw.test', ca: other.certificatePem }), { error: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
  t.same(await tlsClient({ host: '127.0.0.1', port, servername: 'gw.test' }), { error: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }, 'not among the default roots');
  t.same(await tlsClient({ host: '127.0.0.1', port, servername: 'other.test', ca: ca.certificatePem }), { error: 'ERR_TLS_CERT_ALTNAME_INVALID' });
});
