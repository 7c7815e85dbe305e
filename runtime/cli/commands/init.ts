import { lstatSync, mkdirSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { printHelp } from '../help.ts';
import { initChoices } from '../init/init-choices.ts';
import { packageReferences } from '../init/package-references.ts';
import { scaffoldFiles } from '../init/scaffold-files.ts';
import { shellLine } from '../shell-quote.ts';
import { expectPositionals, parseCommandArgs, UsageError } from '../usage-error.ts';

/** The folder as it will be once created: its nearest existing ancestor realpath'd, the rest kept. */
function canonicalFolder(folder: string): string {
  const tail: string[] = [];
  for (let dir = path.resolve(folder); ; dir = path.dirname(dir)) {
    try {
      return path.join(realpathSync(dir), ...tail.reverse());
    } catch {
      if (path.dirname(dir) === dir) throw new UsageError(`cannot resolve ${folder}`);
      tail.push(path.basename(dir));
    }
  }
}

/** Refuses anything but a missing folder or an empty real one: `init` never overwrites. */
function checkTarget(folder: string, shown: string): void {
  let stats;
  try {
    stats = lstatSync(folder);
  } catch {
    return; // missing: created below
  }
  if (stats.isSymbolicLink()) throw new UsageError(`${shown} is a symlink; give the folder itself`);
  if (!stats.isDirectory()) throw new UsageError(`${shown} exists and is not a folder; init writes nothing over it`);
  const entries = readdirSync(folder);
  if (entries.length > 0) {
    throw new UsageError(`${shown} is not empty (it holds ${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''}); init never overwrites`);
  }
}

/** `init <folder>`: a plugin that validates and runs as written, then the next three commands. */
export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs({
    args,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      tool: { type: 'string' },
      capability: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return printHelp('init');
  const [shown] = expectPositionals(positionals, ['folder']) as [string];
  const folder = path.resolve(shown);
  const choices = initChoices(path.basename(folder), values);
  checkTarget(folder, shown);
  const refs = packageReferences(canonicalFolder(folder));
  const files = scaffoldFiles(choices, refs);

  mkdirSync(folder, { recursive: true });
  for (const file of files) {
    const target = path.join(folder, file.path);
    mkdirSync(path.dirname(target), { recursive: true });
    // `wx`: a file that appeared since the check is left alone and the command fails.
    writeFileSync(target, file.contents, { flag: 'wx' });
  }

  const where = (file: string) => path.join(shown, file);
  const lines = [
    `Created plugin "${choices.name}" in ${shown}:`,
    ...files.map((file) => `  ${where(file.path)}`),
    '',
    'Next:',
    `  ${shellLine(['npx', 'manasvi-plugins', 'validate', shown])}`,
    `  ${shellLine(['npx', 'manasvi-plugins', 'call', shown, choices.tool, '--args', '{"name":"world"}'])}`,
    `  ${shellLine(['node', '--test', where('plugin.test.mjs')])}`,
  ];
  if (choices.capabilities.length > 0) lines.push('', `${where('README.md')} has the policy that grants the declared capabilities.`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
