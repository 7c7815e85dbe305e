import type { AddressInfo } from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { execa } from 'execa';
import t, { type Test } from 'tap';
import { createCertificateAuthority, type LeafCertificate } from '../../runtime/egress/certificates/certificate-authority.ts';
import { bundledDenoPath } from '../../runtime/launch/deno-binary.ts';

/**
 * Connects over TLS as the args say and prints what the server sent, or `refused:` and the
 * error. `ip <port>` uses Deno.connectTls to 127.0.0.1; `name <port>` opens TCP to
 * 127.0.0.1 and starts TLS for gw.test over it (the name never has to resolve).
 */
const CLIENT = `
const [mode, port] = Deno.args;
try {
  const conn = mode === 'ip'
    ? await Deno.connectTls({ hostname: '127.0.0.1', port: Number(port) })
    : await Deno.startTls(await Deno.connect({ hostname: '127.0.0.1', port: Number(port) }), { hostname: 'gw.test' });
  // Read one line, then close: no reliance on how the server ends the connection.
  let text = '';
  const buffer = new Uint8Array(256);
  while (!text.includes('\\n')) {
    const n = await conn.read(buffer);
    if (n === null) break;
    text += new TextDecoder().decode(buffer.subarray(0, n));
  }
  conn.close();
  console.log('read: ' + text.trim());
} catch (error) {
  console.log('refused: ' + error);
  Deno.exit(3);
}
`;

/** A TLS server on 127.0.0.1 with `leaf`; it greets each connection with a line. */
async function tlsServer(t: Test, leaf: LeafCertificate): Promise<number> {
  const server = tls.createServer({ ...leaf }, (socket) => {
    socket.on('error', () => {});
    socket.write('hello, Deno\n');
  });
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

/** Runs the client under the real Deno with `flags` and `env`; its stdout and exit code. */
async function denoClient(dir: string, flags: string[], env: Record<string, string>, mode: 'ip' | 'name', port: number) {
  const result = await execa(
    bundledDenoPath(),
    ['run', '--no-prompt', '--allow-net=127.0.0.1,gw.test', ...flags, path.join(dir, 'client.ts'), mode, String(port)],
    { env: { DENO_DIR: path.join(dir, 'deno-dir'), DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1', ...env }, extendEnv: false, reject: false },
  );
  return { stdout: result.stdout.trim(), exitCode: result.exitCode };
}

t.test('Deno trusts a leaf for 127.0.0.1 with the CA from --cert or DENO_CERT, and refuses it without', async (t) => {
  const ca = createCertificateAuthority();
  const dir = t.testdir({ 'client.ts': CLIENT });
  const caFile = path.join(dir, 'ca.pem');
  ca.writeCertificate(caFile);
  const port = await tlsServer(t, ca.leafFor('127.0.0.1'));

  t.same(await denoClient(dir, ['--cert', caFile], {}, 'ip', port), { stdout: 'read: hello, Deno', exitCode: 0 }, '--cert');
  t.same(await denoClient(dir, [], { DENO_CERT: caFile }, 'ip', port), { stdout: 'read: hello, Deno', exitCode: 0 }, 'DENO_CERT');
  const refused = await denoClient(dir, [], {}, 'ip', port);
  t.equal(refused.exitCode, 3);
  t.match(refused.stdout, /^refused: .*(UnknownIssuer|invalid peer certificate)/);
});

t.test('Deno trusts a leaf for gw.test under the CA, refuses it under another CA and for another name', async (t) => {
  const ca = createCertificateAuthority();
  const other = createCertificateAuthority();
  const dir = t.testdir({ 'client.ts': CLIENT });
  const caFile = path.join(dir, 'ca.pem');
  const otherFile = path.join(dir, 'other.pem');
  ca.writeCertificate(caFile);
  other.writeCertificate(otherFile);

  const port = await tlsServer(t, ca.leafFor('gw.test'));
  t.same(await denoClient(dir, [], { DENO_CERT: caFile }, 'name', port), { stdout: 'read: hello, Deno', exitCode: 0 });
  const untrusted = await denoClient(dir, [], { DENO_CERT: otherFile }, 'name', port);
  t.equal(untrusted.exitCode, 3);
  t.match(untrusted.stdout, /UnknownIssuer|BadSignature|invalid peer certificate/);

  const wrongName = await tlsServer(t, ca.leafFor('not-gw.test'));
  const mismatch = await denoClient(dir, [], { DENO_CERT: caFile }, 'name', wrongName);
  t.equal(mismatch.exitCode, 3);
  t.match(mismatch.stdout, /NotValidForName|not valid for/);
});
