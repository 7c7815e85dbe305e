import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { descendantsOf, processAlive as alive } from '../../launch/sandbox/sandboxed-pid.ts';
import { selfCommand } from '../self-command.ts';
import type { ProbeWorkspace } from './probe-workspace.ts';

/** What became of a busy tool's processes once its host was killed with SIGKILL. */
export interface HostDeathResult {
  /** The tool's processes while it ran: the launched process and everything under it. */
  processes: number[];
  /** Those still alive after the wait. */
  survivors: number[];
  /** How long they took to go, in ms (null when some survived). */
  goneAfterMs: number | null;
  /** Why the probe could not run, if it could not. */
  error?: string;
}

const START_DEADLINE_MS = 30_000;
const GONE_DEADLINE_MS = 5_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The pid of the tool process the host's audit file records as busy with its call. */
function busyPid(auditFile: string): number | null {
  let text: string;
  try {
    text = readFileSync(auditFile, 'utf8');
  } catch {
    return null;
  }
  const records = text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { type?: string; launchId?: string; pid?: number; state?: string });
  const busy = records.find((record) => record.type === 'state' && record.state === 'busy');
  return records.find((record) => record.type === 'launch' && record.launchId === busy?.launchId)?.pid ?? null;
}

/**
 * Starts this CLI as a host (`call` of the escaper's `block`: a minute with its event loop
 * blocked, so it cannot see its stdin close), waits until the tool process has answered
 * its call, kills the host with SIGKILL (no cleanup of its own can run), and watches
 * the tool's processes go: what the parent-death signal must do on its own.
 */
export async function probeHostDeath(workspace: ProbeWorkspace): Promise<HostDeathResult> {
  const staged = workspace.stageEscaper();
  const auditFile = path.join(workspace.root, `host-death-${path.basename(staged.dir)}.jsonl`);
  const args = ['call', staged.manifest, 'bare', '--args', '{"action":"block","text":"60000"}', '--audit', auditFile, '--timeout', '120000', '--allow-declared'];
  const command = selfCommand(args);
  if (command.missing !== undefined) return { processes: [], survivors: [], goneAfterMs: null, error: command.missing };
  const host = spawn(command.command, command.args, { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => host.once('close', () => resolve()));
  let pid: number | null = null;
  for (const started = Date.now(); pid === null && Date.now() - started < START_DEADLINE_MS && host.exitCode === null; await sleep(20)) {
    pid = busyPid(auditFile);
  }
  if (pid === null) {
    host.kill('SIGKILL');
    await exited;
    return { processes: [], survivors: [], goneAfterMs: null, error: 'the tool process was not busy with its call within 30 s' };
  }
  // The call is sent; a moment for Deno to be inside it, its event loop blocked.
  await sleep(200);
  const processes = [pid, ...descendantsOf(pid)];
  host.kill('SIGKILL');
  await exited;
  const killedAt = Date.now();
  while (processes.some(alive) && Date.now() - killedAt < GONE_DEADLINE_MS) await sleep(20);
  const survivors = processes.filter(alive);
  // Nothing of this probe may outlive doctor, whatever the layer did.
  for (const survivor of survivors) process.kill(survivor, 'SIGKILL');
  return { processes, survivors, goneAfterMs: survivors.length === 0 ? Date.now() - killedAt : null };
}
