import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { REPO_ROOT } from '../helpers/fixtures.ts';
import { SDK_IMPORT, writeInlinePlugin } from '../helpers/inline-plugin.ts';
import { processExists, waitForProcessGone } from '../helpers/processes.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { CLI_BIN } from './cli-process.ts';


for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  t.test(`${signal} to "call" stops the plugin process, even one that ignores SIGTERM, and exits 130`, async (t) => {
    const dir = t.testdir();
    const manifest = writeInlinePlugin(dir, {
      name: 'hanger',
      source: [SDK_IMPORT, "Deno.addSignalListener('SIGTERM', () => {});", 'definePlugin({ tools: { hang: () => new Promise(() => {}) } });', ''].join('\n'),
      tools: { hang: { description: 'never answers' } },
    });
    const audit = path.join(dir, 'audit.jsonl');
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([key]) => key !== 'NODE_OPTIONS' && !key.startsWith('_TAPJS') && !key.startsWith('TAP')),
    );
    const cli = execa('node', [CLI_BIN, 'call', manifest, 'hang', '--audit', audit, '--timeout', '120000'], {
      cwd: REPO_ROOT,
      env,
      extendEnv: false,
      reject: false,
    });
    const pid = await waitFor('the tool process to be ready', () => {
      if (!existsSync(audit)) return undefined;
      const records = readFileSync(audit, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line));
      if (!records.some((r) => r.type === 'state' && r.state === 'busy')) return undefined;
      return records.find((r) => r.type === 'launch')?.pid as number | undefined;
    });
    t.ok(processExists(pid), 'the plugin process is running');
    cli.kill(signal);
    const result = await cli;
    t.equal(result.exitCode, 130);
    await waitForProcessGone(pid);
    t.pass('no plugin process is left behind');
  });
}
