import { cpSync, mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the fixture plugins live: one self-contained folder each. */
export const FIXTURE_PLUGINS_DIR = fileURLToPath(new URL('../fixtures/plugins/', import.meta.url));

/** The echo example that ships with the package. */
export const ECHO_MANIFEST = fileURLToPath(new URL('../../manifests/examples/echo/manifest.json', import.meta.url));

/** Path of a file in a fixture plugin's folder. */
export function fixturePath(fixture: string, ...segments: string[]): string {
  return path.join(FIXTURE_PLUGINS_DIR, fixture, ...segments);
}

/**
 * Copies a fixture plugin's folder to `target` (a t.testdir) and writes `files` into it:
 * manifests naming this run's ports and folders, data the plugin is granted. Objects are
 * written as JSON. Returns the canonical folder, the form grants take.
 */
export function stageFixture(fixture: string, target: string, files: Record<string, string | object> = {}): string {
  mkdirSync(target, { recursive: true });
  cpSync(fixturePath(fixture), target, { recursive: true });
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(target, name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, typeof content === 'string' ? content : `${JSON.stringify(content, null, 2)}\n`);
  }
  return realpathSync(target);
}
