import { spawn } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { bundledDenoPath } from '../../runtime/launch/deno-binary.ts';
import { sandboxedToolPid } from '../../runtime/launch/sandbox/sandboxed-pid.ts';
import { detectSandbox } from '../../runtime/launch/sandbox/sandbox-support.ts';
import { processExists, waitForProcessGone } from '../helpers/processes.ts';
import { waitFor } from '../helpers/wait-for.ts';

// The launcher on its own: what it builds, what it refuses, and that the host sees Deno's
// own exit through it.

const deno = bundledDenoPath();
const sandbox = detectSandbox(deno);
const skip = sandbox.available ? false : `no sandbox here: ${sandbox.reason}`;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  pid: number;
}

/** Runs `deno eval <code>` inside the launcher with extra launcher options; resolves when it has exited. */
function runInside(code: string, options: string[] = [], onSpawn?: (pid: number) => void): Promise<Run> {
  if (!sandbox.available) throw new Error('no sandbox');
  const stage = mkdtempSync(path.join(os.tmpdir(), 'manasvi-launcher-test-'));
  const args = [sandbox.script, sandbox.arch, '--net', '--exec', deno, ...sandbox.libraries.flatMap((lib) => ['--exec', lib]), ...options, '--', deno, 'eval', code];
  const child = spawn(sandbox.perl, args, { env: { DENO_DIR: stage, NO_COLOR: '1' } });
  onSpawn?.(child.pid!);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => {
    child.once('close', (exitCode, signal) => {
      rmSync(stage, { recursive: true, force: true });
      resolve({ code: exitCode, signal, stdout, stderr, pid: child.pid! });
    });
  });
}

t.test("Deno's exit code is the launcher's", { skip }, async (t) => {
  t.match(await runInside('Deno.exit(7)'), { code: 7, signal: null });
  t.match(await runInside('0'), { code: 0, signal: null });
});

t.test('a signal that ends Deno ends the launcher the same way (SIGXCPU stays SIGXCPU)', { skip }, async (t) => {
  t.match(await runInside('Deno.kill(Deno.pid, "SIGXCPU")'), { code: null, signal: 'SIGXCPU' });
  t.match(await runInside('Deno.kill(Deno.pid, "SIGKILL")'), { code: null, signal: 'SIGKILL' });
});

t.test('inside: a root of only what was given, its own /proc, no capabilities, no new privileges, a seccomp filter', { skip }, async (t) => {
  const report = `
    const root = [...Deno.readDirSync('/')].map((e) => e.name).sort();
    const procs = [...Deno.readDirSync('/proc')].map((e) => e.name).filter((n) => /^\\d+$/.test(n)).sort();
    const status = Deno.readTextFileSync('/proc/self/status');
    const field = (name) => new RegExp('^' + name + ':\\\\s+(\\\\S+)', 'm').exec(status)[1];
    const exists = (p) => { try { Deno.statSync(p); return true; } catch { return false; } };
    const writes = (p) => { try { Deno.writeTextFileSync(p, 'x'); return true; } catch (e) { return e.name; } };
    console.log(JSON.stringify({ root, procs, pid: Deno.pid, capEff: field('CapEff'), capBnd: field('CapBnd'), noNewPrivs: field('NoNewPrivs'), seccomp: field('Seccomp'),
      procSys: exists('/proc/sys'), sysrq: exists('/proc/sysrq-trigger'), rootWrite: writes('/planted'), devWrite: writes('/dev/planted'), devNull: writes('/dev/null'), hostname: Deno.hostname() }));`;
  const run = await runInside(report);
  t.equal(run.code, 0, run.stderr);
  const inside = JSON.parse(run.stdout) as Record<string, unknown>;
  const given = [deno, ...(sandbox.available ? sandbox.libraries : [])];
  const topLevel = new Set([...given, ...given.map((file) => realpathSync(file))].map((file) => file.split('/')[1]));
  t.same(inside.root, [...new Set([...topLevel, 'deno', 'dev', 'proc', 'tmp'])].sort(), 'the top level holds the binary’s and libraries’ folders (by name and real path) and the sandbox’s own');
  t.same(inside.procs, ['1', '2'], 'only pid 1 (the launcher) and Deno exist');
  t.equal(inside.pid, 2);
  t.match(inside, { capEff: '0000000000000000', capBnd: '0000000000000000', noNewPrivs: '1', seccomp: '2' });
  t.match(inside, { procSys: false, sysrq: false }, 'no /proc/sys, no sysrq-trigger');
  t.match(inside, { rootWrite: /./, devWrite: /./, devNull: true, hostname: 'sandbox' }, '/ and /dev are read-only, /dev/null still takes writes, the host name is the sandbox’s');
  t.not(inside.rootWrite, true);
  t.not(inside.devWrite, true);
});

t.test('the seccomp filter: namespace, mount and memfd calls and other socket families fail with EPERM, clone3 with ENOSYS, processes still start', { skip }, async (t) => {
  // unshare(0) is a no-op that succeeds and clone3 with no arguments is EINVAL anywhere else:
  // these errors are the filter's own.
  const probe = `
    const libc = Deno.dlopen('libc.so.6', {
      syscall: { parameters: ['i64', 'i64', 'i64'], result: 'i64' },
      socket: { parameters: ['i32', 'i32', 'i32'], result: 'i32' },
      __errno_location: { parameters: [], result: 'pointer' },
    });
    const errno = () => new Deno.UnsafePointerView(libc.symbols.__errno_location()).getInt32();
    const call = (nr) => { const r = libc.symbols.syscall(BigInt(nr), 0n, 0n); return [Number(r), errno()]; };
    const spawned = await new Deno.Command(Deno.execPath(), { args: ['--version'] }).output();
    const nr = ${JSON.stringify(process.arch === 'arm64' ? { unshare: 97, mount: 40, memfd: 279 } : { unshare: 272, mount: 165, memfd: 319 })};
    const socket = (family) => { const r = libc.symbols.socket(family, 1, 0); return [r >= 0 ? 'fd' : r, errno()]; };
    console.log(JSON.stringify({ unshare: call(nr.unshare), clone3: call(435), mount: call(nr.mount), memfd: call(nr.memfd), vsock: socket(40), alg: socket(38), inet: socket(2), unix: socket(1), spawned: spawned.code }));`;
  const run = await runInside(probe);
  t.equal(run.code, 0, run.stderr);
  const seen = JSON.parse(run.stdout) as Record<string, unknown>;
  t.same(seen.unshare, [-1, 1], 'unshare: EPERM');
  t.same(seen.mount, [-1, 1], 'mount: EPERM');
  t.same(seen.clone3, [-1, 38], 'clone3: ENOSYS');
  t.same(seen.memfd, [-1, 1], 'memfd_create: EPERM (its pages are in no RSS the host watches)');
  t.same(seen.vsock, [-1, 1], 'an AF_VSOCK socket: EPERM');
  t.same(seen.alg, [-1, 1], 'an AF_ALG socket: EPERM');
  t.equal((seen.inet as unknown[])[0], 'fd', 'an AF_INET socket is made');
  t.equal((seen.unix as unknown[])[0], 'fd', 'an AF_UNIX socket is made');
  t.equal(seen.spawned, 0, 'fork and exec still work (through clone)');
});

t.test('a granted path that is a link, or has one on the way, is refused: the bind never follows it', { skip }, async (t) => {
  const dir = t.testdir({ real: { 'file.txt': 'x' } });
  symlinkSync(path.join(dir, 'real'), path.join(dir, 'link'));
  const through = await runInside('0', ['--ro', path.join(dir, 'link', 'file.txt')]);
  t.equal(through.code, 125, 'a link on the way');
  t.match(through.stderr, /manasvi-sandbox: bind: .*link\/file.txt resolves to .*real\/file.txt: a link on the way/);
  const run = await runInside('0', ['--ro', path.join(dir, 'link')]);
  t.equal(run.code, 125, 'the link itself');
  t.match(run.stderr, /manasvi-sandbox: bind: .*\/link is a link/);
});

t.test('a granted path that does not exist is left out, and the tool still starts', { skip }, async (t) => {
  const missing = path.join(t.testdir(), 'not-there');
  const run = await runInside(`try { Deno.statSync(${JSON.stringify(missing)}); console.log('found') } catch (e) { console.log(e.name) }`, ['--ro', missing]);
  t.equal(run.code, 0, run.stderr);
  t.equal(run.stdout.trim(), 'NotFound', 'nothing there, and nothing made there');
});

t.test('killing the launcher takes Deno inside with it', { skip }, async (t) => {
  let launcher = 0;
  const done = runInside('await new Promise(() => setInterval(() => {}, 1000))', [], (pid) => (launcher = pid));
  const inner = await waitFor('Deno to start inside', () => sandboxedToolPid(launcher) ?? undefined);
  t.ok(processExists(inner), 'Deno runs as the launcher’s grandchild');
  process.kill(launcher, 'SIGKILL');
  t.match(await done, { signal: 'SIGKILL' });
  await waitForProcessGone(inner);
  t.notOk(processExists(inner), 'Deno is gone');
});
