import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { bundledDenoPath } from '../../runtime/launch/deno-binary.ts';
import { detectSandbox } from '../../runtime/launch/sandbox/sandbox-support.ts';
import { descendantPids, pidInsideOf, processExists, waitForProcessGone } from '../helpers/processes.ts';
import { waitFor } from '../helpers/wait-for.ts';

// The launcher's --bridge: a tool in an empty network namespace reaches the host's egress
// gateway (here a Unix-socket server of the test's own) at one loopback address, and
// nothing else; with --dns, every query is refused inside and reported to the gateway.

const deno = bundledDenoPath();
const sandbox = detectSandbox(deno);
const skip = sandbox.available ? false : `no sandbox here: ${sandbox.reason}`;

/** Where the tool finds the bridge inside its network namespace. */
const ADDR = '127.77.1.2';
const PORT = 8089;
const PROXY_USER = 'tool-7';
const PROXY_PASS = 's3cret';
const HTTP_PROXY = `http://${PROXY_USER}:${PROXY_PASS}@${ADDR}:${PORT}`;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface Launch {
  pid: number;
  child: ChildProcessWithoutNullStreams;
  done: Promise<Run>;
}

/** Starts `deno eval [denoFlags] <code>` under the launcher with exactly these launcher options. */
function launch(options: string[], code: string, { env = {}, denoFlags = [] }: { env?: Record<string, string>; denoFlags?: string[] } = {}): Launch {
  if (!sandbox.available) throw new Error('no sandbox');
  const stage = mkdtempSync(path.join(os.tmpdir(), 'manasvi-bridge-test-'));
  const args = [sandbox.script, sandbox.arch, '--exec', deno, ...sandbox.libraries.flatMap((lib) => ['--exec', lib]), ...options, '--', deno, 'eval', ...denoFlags, code];
  const child = spawn(sandbox.perl, args, { env: { DENO_DIR: stage, NO_COLOR: '1', ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const done = new Promise<Run>((resolve) => {
    child.once('close', (code, signal) => {
      rmSync(stage, { recursive: true, force: true });
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { pid: child.pid!, child, done };
}

/** Runs a tool to its end and parses the one JSON line it prints. */
async function report(t: Test, options: string[], code: string, extra?: Parameters<typeof launch>[2]): Promise<Record<string, unknown>> {
  const run = await launch(options, code, extra).done;
  t.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

interface GatewayConnection {
  received: Buffer[];
  /** Bytes received, counted even where `received` is not kept (a slow gateway). */
  bytes: number;
  ended: boolean;
}

interface Gateway {
  socket: string;
  connections: GatewayConnection[];
  open: number;
  mostOpen: number;
}

/**
 * The host's gateway stand-in, on a Unix socket in a temp folder: echoes every byte and
 * answers the client's end with `farewell` then its own end (half-close both ways), or,
 * with `answerConnect`, answers a CONNECT head with 403 and closes; with `slow`, only
 * counts what it receives, pausing after every chunk, so the tool writes faster than it reads.
 */
async function startGateway(t: Test, { farewell = '', answerConnect = false, slow = false } = {}): Promise<Gateway> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'manasvi-gw-'));
  const gateway: Gateway = { socket: path.join(dir, 'gw.sock'), connections: [], open: 0, mostOpen: 0 };
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    const connection: GatewayConnection = { received: [], bytes: 0, ended: false };
    gateway.connections.push(connection);
    gateway.mostOpen = Math.max(gateway.mostOpen, ++gateway.open);
    socket.on('data', (chunk) => {
      connection.bytes += chunk.length;
      if (slow) {
        socket.pause();
        setTimeout(() => socket.resume(), 1);
        return;
      }
      connection.received.push(chunk);
      if (!answerConnect) socket.write(chunk);
      else if (Buffer.concat(connection.received).includes('\r\n\r\n')) socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
    });
    socket.on('end', () => {
      connection.ended = true;
      socket.end(farewell);
    });
    socket.on('error', () => {});
    socket.on('close', () => gateway.open--);
  });
  await new Promise<void>((resolve) => server.listen(gateway.socket, resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        });
      }),
  );
  return gateway;
}

const bridged = (gateway: Gateway, ...more: string[]) => ['--net', '--bridge', gateway.socket, `${ADDR}:${PORT}`, ...more];

/** Helpers every tool program below starts with. */
const PRELUDE = `
  const ADDR = ${JSON.stringify(ADDR)}, PORT = ${PORT};
  const enc = new TextEncoder(), dec = new TextDecoder();
  async function readAll(conn) {
    const chunks = []; const buf = new Uint8Array(65536); let size = 0;
    for (;;) { const n = await conn.read(buf); if (n === null) break; chunks.push(buf.slice(0, n)); size += n; }
    const all = new Uint8Array(size); let at = 0;
    for (const c of chunks) { all.set(c, at); at += c.length; }
    return all;
  }
  async function readExactly(conn, size) {
    const all = new Uint8Array(size); let at = 0;
    while (at < size) { const n = await conn.read(all.subarray(at)); if (n === null) break; at += n; }
    return all.subarray(0, at);
  }
  async function writeAll(conn, bytes) { for (let at = 0; at < bytes.length; ) at += await conn.write(bytes.subarray(at, at + 65536)); }
  const hex = async (bytes) => Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)), (b) => b.toString(16).padStart(2, '0')).join('');
  const failure = async (promise) => { try { await promise; return 'succeeded'; } catch (e) { return e.name; } };
`;

t.test('a connection to the bridge address reaches the gateway: what the tool writes comes back', { skip }, async (t) => {
  const gateway = await startGateway(t);
  const inside = await report(
    t,
    bridged(gateway),
    `${PRELUDE}
    const conn = await Deno.connect({ hostname: ADDR, port: PORT });
    const message = enc.encode('hello through the bridge');
    await writeAll(conn, message);
    console.log(JSON.stringify({ echo: dec.decode(await readExactly(conn, message.length)) }));`,
  );
  t.equal(inside.echo, 'hello through the bridge');
  t.equal(Buffer.concat(gateway.connections[0]?.received ?? []).toString(), 'hello through the bridge', 'the gateway received it over its Unix socket');
});

t.test('8 MiB each way arrive byte for byte', { skip }, async (t) => {
  const gateway = await startGateway(t);
  const inside = await report(
    t,
    bridged(gateway),
    `${PRELUDE}
    const data = new Uint8Array(8 << 20);
    for (let at = 0; at < data.length; at += 65536) crypto.getRandomValues(data.subarray(at, at + 65536));
    const conn = await Deno.connect({ hostname: ADDR, port: PORT });
    const started = performance.now();
    const [, back] = await Promise.all([writeAll(conn, data).then(() => conn.closeWrite()), readAll(conn)]);
    const ms = performance.now() - started;
    console.log(JSON.stringify({ sent: await hex(data), back: await hex(back), backBytes: back.length, ms }));`,
  );
  t.equal(inside.backBytes, 8 << 20, 'all 8 MiB came back');
  t.equal(inside.back, inside.sent, 'the echo is byte-exact');
  const received = Buffer.concat(gateway.connections[0]?.received ?? []);
  t.equal(received.length, 8 << 20, 'the gateway received all 8 MiB');
  t.equal(createHash('sha256').update(received).digest('hex'), inside.sent, 'and exactly what was sent');
  t.comment(`8 MiB each way through the bridge in ${Math.round(inside.ms as number)} ms`);
});

t.test('50 connections at once, each its own gateway connection', { skip }, async (t) => {
  const gateway = await startGateway(t);
  const inside = await report(
    t,
    bridged(gateway),
    `${PRELUDE}
    const conns = await Promise.all(Array.from({ length: 50 }, () => Deno.connect({ hostname: ADDR, port: PORT })));
    const echoes = await Promise.all(conns.map(async (conn, i) => {
      const message = enc.encode('connection ' + i + ' says ' + 'x'.repeat(i));
      await writeAll(conn, message);
      return dec.decode(await readExactly(conn, message.length)) === dec.decode(message);
    }));
    for (const conn of conns) conn.close();
    console.log(JSON.stringify({ echoes }));`,
  );
  t.same(inside.echoes, Array(50).fill(true), 'every connection got its own bytes back');
  t.equal(gateway.connections.length, 50);
  t.equal(gateway.mostOpen, 50, 'all 50 were open at the gateway at once');
});

t.test('at most 256 connections at once: those beyond are closed at once', { skip }, async (t) => {
  const gateway = await startGateway(t);
  const inside = await report(
    t,
    bridged(gateway),
    `${PRELUDE}
    const conns = await Promise.all(Array.from({ length: 300 }, () => Deno.connect({ hostname: ADDR, port: PORT })));
    const outcomes = await Promise.all(conns.map(async (conn) => {
      try { await writeAll(conn, enc.encode('?')); return (await conn.read(new Uint8Array(1))) === null ? 'closed' : 'echo'; } catch (e) { return e.name; }
    }));
    const count = {};
    for (const outcome of outcomes) count[outcome] = (count[outcome] ?? 0) + 1;
    console.log(JSON.stringify({ echoed: count.echo, cut: 300 - count.echo, cutAs: Object.keys(count).filter((k) => k !== 'echo').sort() }));`,
  );
  t.equal(inside.echoed, 256, '256 connections went through');
  t.equal(inside.cut, 44, 'the other 44 were closed');
  t.ok((inside.cutAs as string[]).every((how) => how === 'closed' || how === 'ConnectionReset'), `closed or reset (${String(inside.cutAs)})`);
  t.equal(gateway.connections.length, 256, 'the gateway saw only the 256');
});

t.test('half-close: the tool ends its side and still receives what the gateway sends after', { skip }, async (t) => {
  const gateway = await startGateway(t, { farewell: ' / the gateway, after your end' });
  const inside = await report(
    t,
    bridged(gateway),
    `${PRELUDE}
    const conn = await Deno.connect({ hostname: ADDR, port: PORT });
    await writeAll(conn, enc.encode('last words'));
    await conn.closeWrite();
    console.log(JSON.stringify({ heard: dec.decode(await readAll(conn)) }));`,
  );
  t.equal(inside.heard, 'last words / the gateway, after your end', 'the echo, then the bytes sent after the end, then the end');
  t.ok(gateway.connections[0]?.ended, 'the gateway saw the tool’s end as an end, not a close');
});

t.test('nothing else is reachable: only lo, one listener, connections elsewhere refused', { skip }, async (t) => {
  const gateway = await startGateway(t);
  const inside = await report(
    t,
    bridged(gateway),
    `${PRELUDE}
    const interfaces = [...new Set(Deno.networkInterfaces().map((i) => i.name))];
    const refused = {
      otherLoopback: await failure(Deno.connect({ hostname: '127.0.0.1', port: PORT })),
      otherPort: await failure(Deno.connect({ hostname: ADDR, port: PORT + 1 })),
      ipv6: await failure(Deno.connect({ hostname: '::1', port: PORT })),
      dns: await failure(Deno.connect({ hostname: '127.0.0.1', port: 53 })),
    };
    const table = (file) => Deno.readTextFileSync(file).trim().split('\\n').slice(1).map((line) => line.trim().split(/\\s+/).slice(1, 4));
    console.log(JSON.stringify({ interfaces, refused, tcp: table('/proc/self/net/tcp'), tcp6: table('/proc/self/net/tcp6'), udp: table('/proc/self/net/udp') }));`,
  );
  t.same(inside.interfaces, ['lo'], 'the namespace has lo and nothing else');
  t.same(inside.refused, { otherLoopback: 'ConnectionRefused', otherPort: 'ConnectionRefused', ipv6: 'ConnectionRefused', dns: 'ConnectionRefused' });
  // local address 127.77.1.2:8089 as the kernel writes it (little-endian address, hex port), state 0A = LISTEN
  const listen = `${Buffer.from(ADDR.split('.').map(Number)).readUInt32LE(0).toString(16).toUpperCase().padStart(8, '0')}:${PORT.toString(16).toUpperCase().padStart(4, '0')}`;
  t.same(inside.tcp, [[listen, '00000000:0000', '0A']], 'one TCP socket in the namespace: the bridge listening');
  t.same(inside.tcp6, [], 'no IPv6 socket');
  t.same(inside.udp, [], 'no UDP socket without --dns');
  t.equal(gateway.connections.length, 0, 'none of the refused attempts reached the gateway');
});

t.test('--dns: names do not resolve inside, and each query is reported to the gateway with the proxy credential', { skip }, async (t) => {
  const gateway = await startGateway(t, { answerConnect: true });
  const inside = await report(
    t,
    bridged(gateway, '--dns'),
    `${PRELUDE}
    console.log(JSON.stringify({
      resolvConf: Deno.readTextFileSync('/etc/resolv.conf'),
      resolveDns: await failure(Deno.resolveDns('probe.example', 'A')),
      connect: await failure(Deno.connect({ hostname: 'probe.example', port: 80 })),
    }));`,
    { env: { HTTP_PROXY } },
  );
  t.equal(inside.resolvConf, 'nameserver 127.0.0.1\noptions attempts:1 timeout:1\n', 'the sandbox’s own resolv.conf names the forwarder');
  t.not(inside.resolveDns, 'succeeded', `Deno.resolveDns fails (${String(inside.resolveDns)})`);
  t.not(inside.connect, 'succeeded', `Deno.connect by name fails (${String(inside.connect)})`);
  const basic = Buffer.from(`${PROXY_USER}:${PROXY_PASS}`).toString('base64');
  const expected = `CONNECT probe.example:53 HTTP/1.1\r\nHost: probe.example:53\r\nProxy-Authorization: Basic ${basic}\r\nX-Manasvi-Dns: 1\r\n\r\n`;
  const heads = () => gateway.connections.map((c) => Buffer.concat(c.received).toString('latin1'));
  await waitFor('the A query’s report at the gateway', () => heads().includes(expected));
  t.ok(heads().includes(expected), 'an exact CONNECT report for probe.example, type A, with the Basic credential of HTTP_PROXY');
  for (const head of heads()) t.match(head, /^CONNECT probe\.example:53 HTTP\/1\.1\r\nHost: probe\.example:53\r\nProxy-Authorization: Basic \S+\r\nX-Manasvi-Dns: \d+\r\n\r\n$/, 'every report has the one shape');
});

t.test('--dns: the answer is REFUSED with the query’s id and question; malformed queries get none; odd names are escaped', { skip }, async (t) => {
  const gateway = await startGateway(t, { answerConnect: true });
  const inside = await report(
    t,
    bridged(gateway, '--dns'),
    `${PRELUDE}
    const dns = { transport: 'udp', hostname: '127.0.0.1', port: 53 };
    const socket = Deno.listenDatagram({ transport: 'udp', hostname: '127.0.0.1', port: 0 });
    const label = (text) => { const bytes = enc.encode(text); return [bytes.length, ...bytes]; };
    // a label longer than the packet: dropped without an answer
    await socket.send(new Uint8Array([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 60, 1, 2]), dns);
    // id 0x1234, RD set, one question: TXT for "Odd Name.Example"
    const query = new Uint8Array([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, ...label('Odd Name'), ...label('Example'), 0, 0, 16, 0, 1]);
    await socket.send(query, dns);
    const [answer] = await socket.receive();
    console.log(JSON.stringify({ query: Array.from(query), answer: Array.from(answer) }));`,
    { env: { HTTP_PROXY }, denoFlags: ['--unstable-net'] },
  );
  const query = Buffer.from(inside.query as number[]);
  const answer = Buffer.from(inside.answer as number[]);
  t.equal(answer.readUInt16BE(0), 0x1234, 'the first answer is the well-formed query’s: the malformed one got none');
  t.equal(answer.readUInt16BE(2), 0x8105, 'QR set, RD kept, RCODE 5 (REFUSED)');
  t.same([answer.readUInt16BE(4), answer.readUInt16BE(6), answer.readUInt16BE(8), answer.readUInt16BE(10)], [1, 0, 0, 0], 'one question, no records');
  t.same(answer.subarray(12), query.subarray(12), 'the question echoed');
  const heads = () => gateway.connections.map((c) => Buffer.concat(c.received).toString('latin1'));
  await waitFor('the TXT query’s report', () => heads().some((head) => head.includes('X-Manasvi-Dns: 16')));
  t.match(heads().find((head) => head.includes('X-Manasvi-Dns: 16')), /^CONNECT odd%20name\.example:53 HTTP\/1\.1\r\nHost: odd%20name\.example:53\r\n/, 'the name lower-cased, its space hex-escaped');
  t.equal(heads().length, 1, 'one report: the malformed query was not reported');
});

t.test('a gateway slower than the tool holds the tool back: the forwarder’s memory stays bounded', { skip }, async (t) => {
  const gateway = await startGateway(t, { slow: true });
  const running = launch(
    bridged(gateway),
    `${PRELUDE}
    const conn = await Deno.connect({ hostname: ADDR, port: PORT });
    const chunk = new Uint8Array(1 << 20);
    for (let i = 0; i < 64; i++) await writeAll(conn, chunk);
    await conn.closeWrite();
    await readAll(conn);
    console.log('sent');
    for await (const _ of Deno.stdin.readable) {}`,
  );
  const forwarder = await waitFor('the forwarder', () => descendantPids(running.pid).find((pid) => pidInsideOf(pid) === pid));
  const memory = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${forwarder}/status`, 'utf8'))?.[1]);
  await waitFor('the tool to have sent 64 MiB', () => gateway.connections[0]?.ended);
  const peakKb = memory('VmHWM');
  running.child.stdin.end();
  t.match(await running.done, { code: 0, stdout: 'sent\n' });
  t.equal(gateway.connections[0]?.bytes, 64 << 20, 'all 64 MiB reached the gateway');
  t.ok(peakKb < 16 * 1024, `the forwarder's peak resident memory stayed at ${peakKb} kB, not the 64 MiB that passed through`);
});

t.test('the forwarder keeps no capability, runs under the seccomp filter and no_new_privs, and is in the tool’s network namespace', { skip }, async (t) => {
  const gateway = await startGateway(t);
  const running = launch(bridged(gateway), `${PRELUDE}\n    console.log('up');\n    for await (const _ of Deno.stdin.readable) {}`);
  const forwarder = await waitFor('the forwarder', () => descendantPids(running.pid).find((pid) => pidInsideOf(pid) === pid));
  const status = await waitFor('its privileges dropped', () => {
    const text = readFileSync(`/proc/${forwarder}/status`, 'utf8');
    return /^Seccomp:\s+2$/m.test(text) ? text : undefined;
  });
  const field = (name: string) => new RegExp(`^${name}:\\s+(\\S+)`, 'm').exec(status)?.[1];
  for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) t.equal(field(set), '0000000000000000', `${set} is empty`);
  t.equal(field('NoNewPrivs'), '1');
  t.equal(field('Seccomp'), '2', 'the seccomp filter is installed');
  const netOf = (pid: number) => readlinkSync(`/proc/${pid}/ns/net`);
  t.not(netOf(forwarder), netOf(process.pid), 'not in the host’s network namespace');
  running.child.stdin.end();
  await running.done;
});

t.test('without a gateway to connect to, the tool’s connection is closed at once', { skip }, async (t) => {
  const missing = path.join(mkdtempSync(path.join(os.tmpdir(), 'manasvi-gw-')), 'not-there.sock');
  t.teardown(() => rmSync(path.dirname(missing), { recursive: true, force: true }));
  const inside = await report(
    t,
    ['--net', '--bridge', missing, `${ADDR}:${PORT}`],
    `${PRELUDE}
    const conn = await Deno.connect({ hostname: ADDR, port: PORT });
    let outcome;
    try { outcome = (await readAll(conn)).length; } catch (e) { outcome = e.name; }
    console.log(JSON.stringify({ outcome }));`,
  );
  t.ok(inside.outcome === 0 || inside.outcome === 'ConnectionReset', `the connection ends without a byte (${String(inside.outcome)})`);
});

t.test('--dns: a burst of queries is all answered, but reported at most 20 a second', { skip }, async (t) => {
  const gateway = await startGateway(t, { answerConnect: true });
  const inside = await report(
    t,
    bridged(gateway, '--dns'),
    `${PRELUDE}
    const dns = { transport: 'udp', hostname: '127.0.0.1', port: 53 };
    const socket = Deno.listenDatagram({ transport: 'udp', hostname: '127.0.0.1', port: 0 });
    const started = Date.now();
    const ids = new Set();
    for (let i = 0; i < 100; i++) {
      await socket.send(new Uint8Array([0, i, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5, ...enc.encode('burst'), 0, 0, 1, 0, 1]), dns);
      const [answer] = await socket.receive();
      ids.add(answer[1]);
    }
    console.log(JSON.stringify({ answered: ids.size, seconds: (Date.now() - started) / 1000 }));`,
    { env: { HTTP_PROXY }, denoFlags: ['--unstable-net'] },
  );
  t.equal(inside.answered, 100, 'every query got its answer');
  // Reports go out at once, so they all belong to the seconds the burst spanned.
  await waitFor('the first report', () => gateway.connections.length > 0);
  const windows = Math.floor(inside.seconds as number) + 2;
  t.ok(gateway.connections.length <= 20 * windows, `${gateway.connections.length} reports for 100 queries in ${String(inside.seconds)} s`);
  t.ok(gateway.connections.length < 100, 'most of the burst was only counted');
});

t.test('no forwarder outlives the launcher: not after the tool ends, not after a SIGKILL', { skip }, async (t) => {
  const gateway = await startGateway(t);
  const waitsForStdin = `${PRELUDE} await Deno.connect({ hostname: ADDR, port: PORT }); for await (const _ of Deno.stdin.readable) {}`;
  /** The forwarder (the one descendant in the host's PID namespace), pid 1 inside and Deno, once the tool's connection is through. */
  const processesOf = async (running: Launch, connectionsBefore: number) => {
    await waitFor('the tool’s connection at the gateway', () => gateway.connections.length > connectionsBefore);
    const all = await waitFor('three processes under the launcher', () => {
      const found = descendantPids(running.pid);
      return found.length === 3 ? found : undefined;
    });
    return { all, forwarder: all.filter((pid) => pidInsideOf(pid) === pid) };
  };

  const ending = launch(bridged(gateway), waitsForStdin);
  const first = await processesOf(ending, 0);
  t.equal(first.forwarder.length, 1, 'one forwarder, outside the tool’s PID namespace');
  ending.child.stdin.end();
  t.match(await ending.done, { code: 0, signal: null });
  t.same(first.all.filter(processExists), [], 'the forwarder, pid 1 and Deno are gone once the launcher has exited');

  const killed = launch(bridged(gateway), waitsForStdin);
  const second = await processesOf(killed, 1);
  process.kill(killed.pid, 'SIGKILL');
  t.match(await killed.done, { signal: 'SIGKILL' });
  await waitForProcessGone(second.all);
  t.same(second.all.filter(processExists), [], 'a SIGKILL of the launcher takes the forwarder with it');
});

t.test('bad bridge options are refused before anything starts', { skip }, async (t) => {
  const socket = path.join(os.tmpdir(), 'manasvi-no-gateway.sock');
  const refusals: [string, string[], RegExp, Record<string, string>?][] = [
    ['--bridge without --net', ['--bridge', socket, `${ADDR}:${PORT}`], /--bridge needs --net/],
    ['a non-loopback address', ['--net', '--bridge', socket, `10.0.0.1:${PORT}`], /ADDR:PORT must be an IPv4 loopback address/],
    ['a host name', ['--net', '--bridge', socket, `localhost:${PORT}`], /ADDR:PORT must be an IPv4 loopback address/],
    ['port 0', ['--net', '--bridge', socket, `${ADDR}:0`], /ADDR:PORT must be/],
    ['port 65536', ['--net', '--bridge', socket, `${ADDR}:65536`], /ADDR:PORT must be/],
    ['a relative socket path', ['--net', '--bridge', 'gw.sock', `${ADDR}:${PORT}`], /SOCKET must be an absolute path/],
    ['--dns without --bridge', ['--net', '--dns'], /--dns needs --bridge/],
    ['--dns without a credential in HTTP_PROXY', ['--net', '--bridge', socket, `${ADDR}:${PORT}`, '--dns'], /--dns .*HTTP_PROXY/, { HTTP_PROXY: `http://${ADDR}:${PORT}` }],
    ['--dns under a grant of /etc', ['--net', '--bridge', socket, `${ADDR}:${PORT}`, '--dns', '--ro', '/etc'], /grant of \/etc would hide/, { HTTP_PROXY }],
  ];
  for (const [what, options, message, env] of refusals) {
    const run = await launch(options, '0', { env }).done;
    t.equal(run.code, 125, what);
    t.match(run.stderr, new RegExp(`^manasvi-sandbox: setup: .*${message.source}`), `${what}: the message names the rule`);
  }
});
