import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import type { Test } from 'tap';
import type { ToolNetworkPath } from '../../runtime/egress/network-path.ts';
import type { LayerOverrides } from '../../runtime/host/layer-overrides.ts';
import type { AuditRecord, PolicyInput } from '../../runtime/index.ts';
import type { OsLayers } from '../../runtime/launch/os-limits.ts';
import { REPO_ROOT } from './fixtures.ts';
import { GENEROUS_MS } from './wait-for.ts';

/** False where this host lets a test make a user and mount (and UTS) namespace of its own; else why not. */
export const noPrivateNames: false | string =
  spawnSync('unshare', ['--user', '--map-root-user', '--mount', '--uts', 'true']).status === 0 ? false : 'cannot create user, mount and UTS namespaces here';

export interface NamespacedRuntimeOptions {
  /** The hosts file the runtime (and every process it starts) resolves names with. */
  hosts: string;
  /** The host name of a UTS namespace of its own (what `os.hostname()` says inside). */
  hostname?: string;
  policy?: PolicyInput;
  layerOverrides?: LayerOverrides;
}

/** A call's outcome as the namespaced host saw it: its value, or its error's code and details. */
export type RemoteOutcome = { ok: true; value: unknown } | { ok: false; code: string; message: string; details: Record<string, unknown> };

export interface NamespacedRuntime {
  /** Rewrites the private hosts file in place: the bind over /etc/hosts follows its inode, so the runtime sees it at once. */
  setHosts(text: string): void;
  /** The namespace's host name, interfaces and the runtime's layers. */
  machine(): Promise<{ hostname: string; interfaces: Record<string, { address: string; family: string; internal: boolean }[]>; layers: OsLayers }>;
  inspect(manifest: string): Promise<{ grants: { network: string[] }; decisions: { capability: string; scope: string; granted: boolean; rule: string }[] }>;
  load(manifest: string): Promise<{ name: string; tools: { name: string; argv: string[]; network: Pick<ToolNetworkPath, 'via' | 'namespace' | 'rules'> }[] }>;
  call(plugin: string, tool: string, args: object): Promise<RemoteOutcome>;
  /** The host pid of a running tool's Deno and the HTTP_PROXY it was started with. */
  proxyEnvironment(plugin: string, tool: string): Promise<{ pid: number; HTTP_PROXY: string | null }>;
  audit(): Promise<AuditRecord[]>;
}

/**
 * A real runtime in a process of its own, in a user and mount namespace where a private
 * hosts file is bound over /etc/hosts and a resolv.conf naming only 127.0.0.1 over
 * /etc/resolv.conf (so no name ever reaches a real DNS server), optionally with its own host
 * name. The machine's files are never changed. Its network is the machine's: loopback
 * servers the test starts are reachable from it. Closed when `t` ends.
 */
export async function namespacedRuntime(t: Test, options: NamespacedRuntimeOptions): Promise<NamespacedRuntime> {
  // A folder of its own: t.testdir is the test's, and calling it again would empty it.
  const dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'manasvi-names-')));
  const hostsFile = path.join(dir, 'hosts');
  writeFileSync(hostsFile, options.hosts);
  writeFileSync(path.join(dir, 'resolv.conf'), 'nameserver 127.0.0.1\noptions attempts:1 timeout:1\n');
  const runtimeOptions = { policy: options.policy, layerOverrides: options.layerOverrides, stateDir: path.join(dir, 'state') };
  const setup = ['mount --bind "$1" /etc/hosts', 'mount --bind "$2" /etc/resolv.conf', ...(options.hostname ? ['hostname "$3"'] : []), 'shift 3', 'exec "$@"'].join(' && ');
  const child = spawn(
    'unshare',
    [
      '--user',
      '--map-root-user',
      '--mount',
      ...(options.hostname ? ['--uts'] : []),
      'sh',
      '-c',
      setup,
      'sh',
      hostsFile,
      path.join(dir, 'resolv.conf'),
      options.hostname ?? '',
      process.execPath,
      '--import=tsx',
      path.join(REPO_ROOT, 'tests/security/fixtures/namespaced-host.ts'),
      JSON.stringify(runtimeOptions),
    ],
    { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    const answer = JSON.parse(line) as { id: number; ok: boolean; value?: unknown; error?: { code: string; message: string; details: Record<string, unknown> } };
    const waiting = pending.get(answer.id);
    pending.delete(answer.id);
    if (answer.ok) waiting?.resolve(answer.value);
    else waiting?.reject(Object.assign(new Error(answer.error!.message), answer.error));
  });
  void exited.then((code) => {
    for (const waiting of pending.values()) waiting.reject(new Error(`the namespaced host exited (${code}): ${stderr}`));
    pending.clear();
  });
  t.teardown(async () => {
    if (child.exitCode === null) child.stdin.end(`${JSON.stringify({ id: 0, op: 'close' })}\n`);
    const timer = setTimeout(() => child.kill('SIGKILL'), GENEROUS_MS);
    await exited;
    clearTimeout(timer);
    rmSync(dir, { recursive: true, force: true });
  });
  let next = 1;
  const request = <T>(op: string, fields: object = {}) =>
    new Promise<T>((resolve, reject) => {
      const id = next++;
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      child.stdin.write(`${JSON.stringify({ id, op, ...fields })}\n`);
    });
  return {
    setHosts: (text) => writeFileSync(hostsFile, text),
    machine: () => request('machine'),
    inspect: (manifest) => request('inspect', { manifest }),
    load: (manifest) => request('load', { manifest }),
    call: (plugin, tool, args) =>
      request('call', { plugin, tool, args }).then(
        (value): RemoteOutcome => ({ ok: true, value }),
        (error: { code?: string; message: string; details?: Record<string, unknown> }): RemoteOutcome => ({ ok: false, code: error.code ?? 'thrown', message: error.message, details: error.details ?? {} }),
      ),
    proxyEnvironment: (plugin, tool) => request('proxyEnvironment', { plugin, tool }),
    audit: () => request('audit'),
  };
}
