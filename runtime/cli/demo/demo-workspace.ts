import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { PolicyInput } from '../../index.ts';

/** The demo's temporary folder; `remove` deletes it. */
export interface DemoWorkspace {
  /** The temporary folder itself: everything the demo writes is under it. */
  root: string;
  /** A copy of the fetcher example whose manifest grants the demo's loopback server. */
  fetcherManifest: string;
  /** A copy of the notes example with an empty data folder of its own. */
  notesManifest: string;
  /** A JS module outside every plugin folder, for the rogue's run-time import. */
  canaryModule: string;
  /** What that module exports: seeing it in a result proves the import got through. */
  canary: string;
  /** The demo's policy as a file, for a process that takes `--policy FILE` (the MCP bridge). */
  policyFile: string;
  remove(): void;
}

/** Copies one example's folder (its data folder, if any, left behind) and returns the manifest's path. */
function copyExample(exampleDir: string, into: string, edit: (manifest: Record<string, any>) => void): string {
  cpSync(exampleDir, into, { recursive: true, filter: (source) => path.relative(exampleDir, source) !== 'data' });
  const manifestPath = path.join(into, 'manifest.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  // The schema reference is relative to the package layout, which the copy leaves.
  delete manifest.$schema;
  edit(manifest);
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  return manifestPath;
}

/**
 * Creates a temporary folder holding
 * (1) a copy of the fetcher example with `hostPort` (the demo's ephemeral loopback
 * server) written into its access-network and its fetch_url sandbox — the example in the
 * package keeps its placeholder port;
 * (2) a copy of the notes example with a fresh, empty `data` folder: the notes the demo
 * writes land there, never inside the package (which may be an installed, shared or
 * read-only copy under node_modules);
 * (3) a canary module no plugin is granted;
 * (4) `policy` written as a policy file.
 */
export function createDemoWorkspace(
  examples: { fetcher: string; notes: string },
  hostPort: string,
  policy: PolicyInput,
): DemoWorkspace {
  const root = mkdtempSync(path.join(os.tmpdir(), 'manasvi-demo-'));
  const remove = () => rmSync(root, { recursive: true, force: true });
  try {
    const fetcherManifest = copyExample(examples.fetcher, path.join(root, 'fetcher'), (manifest) => {
      manifest.capabilities['access-network'] = [hostPort];
      manifest.tools.fetch_url.sandbox.network = [hostPort];
    });
    const notesDir = path.join(root, 'notes');
    const notesManifest = copyExample(examples.notes, notesDir, () => {});
    mkdirSync(path.join(notesDir, 'data'));

    const canary = `canary-${randomBytes(8).toString('hex')}`;
    const canaryModule = path.join(root, 'outside-every-plugin.js');
    writeFileSync(canaryModule, `export default ${JSON.stringify(canary)};\n`);
    const policyFile = path.join(root, 'policy.json');
    writeFileSync(policyFile, `${JSON.stringify(policy, null, 2)}\n`);
    return { root, fetcherManifest, notesManifest, canaryModule, canary, policyFile, remove };
  } catch (error) {
    remove();
    throw error;
  }
}
