import { readdirSync, readFileSync } from 'node:fs';
import t from 'tap';

const runtime = new URL('../../runtime/', import.meta.url);

function importsOf(folder: string): { file: string; specifier: string }[] {
  const dir = new URL(`${folder}/`, runtime);
  return readdirSync(dir)
    .filter((name) => name.endsWith('.ts'))
    .flatMap((file) =>
      [...readFileSync(new URL(file, dir), 'utf8').matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+'([^']+)'/gm)].map((match) => ({
        file: `${folder}/${file}`,
        specifier: match[1]!,
      })),
    );
}

t.test('policy/ imports nothing from grants/, so the two no longer import each other', async (t) => {
  t.same(importsOf('policy').filter(({ specifier }) => specifier.startsWith('../grants/')), []);
});

t.test('scopes/ sits at the bottom: it imports no other runtime folder', async (t) => {
  const upward = importsOf('scopes').filter(({ specifier }) => specifier.startsWith('../') && !specifier.startsWith('../../plugin-sdk/protocol/'));
  t.same(upward, []);
});
