import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The demo's temporary folder; `remove` deletes it. */
export interface DemoWorkspace {
  /** A copy of the fetcher example whose manifest grants the demo's loopback server. */
  fetcherManifest: string;
  /** A JS module outside every plugin folder, for the rogue's run-time import. */
  canaryModule: string;
  /** What that module exports: seeing it in a result proves the import got through. */
  canary: string;
  remove(): void;
}

/**
 * Creates a temporary folder holding (1) a copy of the fetcher example with `hostPort`
 * (the demo's ephemeral loopback server) written into its access-network and its
 * fetch_url sandbox — the example in the repository keeps its placeholder port — and
 * (2) a canary module no plugin is granted.
 */
export function createDemoWorkspace(fetcherExampleDir: string, hostPort: string): DemoWorkspace {
  const root = mkdtempSync(path.join(os.tmpdir(), 'manasvi-demo-'));
  const fetcherDir = path.join(root, 'fetcher');
  cpSync(fetcherExampleDir, fetcherDir, { recursive: true });
  const fetcherManifest = path.join(fetcherDir, 'manifest.json');
  const manifest = JSON.parse(readFileSync(fetcherManifest, 'utf8'));
  // The schema reference is relative to the repository layout, which the copy leaves.
  delete manifest.$schema;
  manifest.capabilities['access-network'] = [hostPort];
  manifest.tools.fetch_url.sandbox.network = [hostPort];
  writeFileSync(fetcherManifest, `${JSON.stringify(manifest, null, 2)}\n`);

  const canary = `canary-${randomBytes(8).toString('hex')}`;
  const canaryModule = path.join(root, 'outside-every-plugin.js');
  writeFileSync(canaryModule, `export default ${JSON.stringify(canary)};\n`);
  return { fetcherManifest, canaryModule, canary, remove: () => rmSync(root, { recursive: true, force: true }) };
}
