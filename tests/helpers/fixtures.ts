/**
 * Every fixture a test uses, found and staged through this one module. The folders under
 * tests/fixtures are grouped by the tests that grew them; each plugin folder is
 * self-contained, so a copy of it (in a t.testdir) works anywhere.
 */
import { cpSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package's own folder. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** tests/fixtures: `plugins/` (security and integration), `capabilities/`, `supervisor/`. */
export const FIXTURES_DIR = fileURLToPath(new URL('../fixtures/', import.meta.url));

/** The fixture plugins of the security and integration tests. */
export const FIXTURE_PLUGINS_DIR = path.join(FIXTURES_DIR, 'plugins');

/** The fixture plugins of the capability and policy tests. */
export const CAPABILITY_FIXTURES_DIR = path.join(FIXTURES_DIR, 'capabilities');

/** The supervisor tests' fixtures: the `misbehave` plugin, `unread-stdin`, a host script. */
export const SUPERVISOR_FIXTURES_DIR = path.join(FIXTURES_DIR, 'supervisor');

/** The misbehave plugin's folder: one manifest per behaviour, sharing its code. */
export const MISBEHAVE_DIR = path.join(SUPERVISOR_FIXTURES_DIR, 'misbehave');

/** manifests/examples: the examples shipped with the package, one folder each, and their policy.json. */
export const EXAMPLES_DIR = path.join(REPO_ROOT, 'manifests/examples');

/** The manifest of an example shipped in manifests/examples, by its folder name. */
export function exampleManifest(name: string): string {
  return path.join(EXAMPLES_DIR, name, 'manifest.json');
}

/** The echo example that ships with the package: the well-behaved neighbour. */
export const ECHO_MANIFEST = exampleManifest('echo');

/** Path of a file in a fixture plugin's folder under tests/fixtures/plugins. */
export function fixturePath(fixture: string, ...segments: string[]): string {
  return path.join(FIXTURE_PLUGINS_DIR, fixture, ...segments);
}

/** Path of a file under tests/fixtures/supervisor (e.g. `unread-stdin/manifest.json`). */
export function supervisorFixturePath(...segments: string[]): string {
  return path.join(SUPERVISOR_FIXTURES_DIR, ...segments);
}

/** The manifest of one misbehave plugin, by its name (`misbehave/<name>.json`). */
export function misbehaveManifest(name: string): string {
  return path.join(MISBEHAVE_DIR, `${name}.json`);
}

type ManifestEdit = (manifest: Record<string, any>) => void;

export interface StageOptions {
  /** Files written into the copy (manifests naming this run's ports, granted data); objects as JSON. */
  files?: Record<string, string | object>;
  /** Changes the copy's manifest.json in place. */
  edit?: ManifestEdit;
  /** Which files of the source to copy (by source path); default all. */
  filter?: (source: string) => boolean;
}

/**
 * Copies the fixture folder `source` (a path under tests/fixtures, or absolute, e.g. an
 * example's folder) to `target` (inside a t.testdir), writes `files` and applies `edit`. Returns the canonical folder (the
 * form grants take) and its manifest path.
 */
export function stage(source: string, target: string, options: StageOptions = {}): { dir: string; manifestPath: string } {
  mkdirSync(target, { recursive: true });
  cpSync(path.resolve(FIXTURES_DIR, source), target, { recursive: true, ...(options.filter ? { filter: options.filter } : {}) });
  for (const [name, content] of Object.entries(options.files ?? {})) {
    const file = path.join(target, name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, typeof content === 'string' ? content : `${JSON.stringify(content, null, 2)}\n`);
  }
  const dir = realpathSync(target);
  const manifestPath = path.join(dir, 'manifest.json');
  if (options.edit) {
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, any>;
    options.edit(manifest);
    writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
  }
  return { dir, manifestPath };
}

/** Copies a plugin fixture of tests/fixtures/plugins to `target`, writing `files` into it. Returns the canonical folder. */
export function stageFixture(fixture: string, target: string, files: Record<string, string | object> = {}): string {
  return stage(path.join('plugins', fixture), target, { files }).dir;
}

/**
 * Copies capability fixture `fixture` into `root/<folder>` (default: the fixture's name),
 * lets `edit` change its manifest, and returns the canonical plugin folder and manifest path.
 */
export function plantPlugin(root: string, fixture: string, edit?: ManifestEdit, folder = fixture): { dir: string; manifestPath: string } {
  return stage(path.join('capabilities', fixture), path.join(realpathSync(root), folder), { edit: edit ?? (() => {}) });
}
