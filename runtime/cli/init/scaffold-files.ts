import type { InitCapability, InitChoices } from './init-choices.ts';
import type { PackageReferences } from './package-references.ts';

/** One file of a new plugin: its path inside the folder and its contents. */
export interface ScaffoldFile {
  path: string;
  contents: string;
}

/** What each `--capability` declares: scopes that read as placeholders and validate as they are. */
const DECLARED: Record<InitCapability, unknown> = {
  'access-filesystem': { read: ['./data'], write: ['./data'] },
  'access-network': ['api.example.com:443'],
  'access-secret': ['API_KEY'],
};

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

function manifest(choices: InitChoices, refs: PackageReferences): unknown {
  const capabilities: Record<string, unknown> = { 'provide-tools': true };
  for (const capability of choices.capabilities) capabilities[capability] = DECLARED[capability];
  return {
    $schema: refs.manifestSchema,
    name: choices.name,
    version: '0.1.0',
    description: `The ${choices.name} plugin.`,
    entry: 'plugin.ts',
    capabilities,
    tools: {
      [choices.tool]: {
        description: 'Greets someone by name.',
        input: {
          type: 'object',
          properties: { name: { type: 'string', minLength: 1, maxLength: 100 } },
          required: ['name'],
          additionalProperties: false,
        },
        // No sandbox yet: this tool runs with no files, no network and no secrets. To use a
        // declared capability, add e.g. "sandbox": { "filesystem": { "read": ["./data"] } }.
      },
    },
  };
}

function entry(choices: InitChoices): string {
  return [
    "import { definePlugin, type ToolContext } from 'manasvi-plugins/plugin-sdk';",
    '',
    'definePlugin({',
    '  tools: {',
    `    ${JSON.stringify(choices.tool)}: ({ name }: { name: string }, ctx: ToolContext) => {`,
    '      // ctx.callId, ctx.signal (aborted on cancel or deadline), ctx.grants, ctx.secret(name)',
    '      return { text: `Hello, ${name}!`, callId: ctx.callId };',
    '    },',
    '  },',
    '});',
    '',
  ].join('\n');
}

function exampleTest(choices: InitChoices, refs: PackageReferences): string {
  return [
    "import assert from 'node:assert/strict';",
    "import { test } from 'node:test';",
    "import { fileURLToPath } from 'node:url';",
    `import { createRuntime } from ${JSON.stringify(refs.runtimeImport)};`,
    '',
    `test(${JSON.stringify(`${choices.tool} greets by name`)}, async () => {`,
    '  const runtime = createRuntime();',
    '  try {',
    "    const plugin = await runtime.load(fileURLToPath(new URL('./manifest.json', import.meta.url)));",
    `    const value = await plugin.call(${JSON.stringify(choices.tool)}, { name: 'test' }, { timeoutMs: 10_000 });`,
    "    assert.equal(value.text, 'Hello, test!');",
    '  } finally {',
    '    await runtime.close();',
    '  }',
    '});',
    '',
  ].join('\n');
}

/** What a policy must say to grant the declared capabilities, for the folder's README. */
function policyNote(choices: InitChoices): string[] {
  if (choices.capabilities.length === 0) return [];
  const entry: Record<string, unknown> = {};
  for (const capability of choices.capabilities) entry[capability] = DECLARED[capability];
  return [
    '',
    'The manifest declares capabilities no host grants by default. A policy that grants them',
    '(paths resolve against the policy file\'s folder; use `--policy FILE` with `call`):',
    '',
    '```json',
    JSON.stringify({ plugins: { [choices.name]: entry } }, null, 2),
    '```',
    '',
    'A tool uses them only through its `sandbox` in manifest.json.',
  ];
}

/** Every file `init` writes, in the order it writes them. */
export function scaffoldFiles(choices: InitChoices, refs: PackageReferences): ScaffoldFile[] {
  const files: ScaffoldFile[] = [
    { path: 'manifest.json', contents: json(manifest(choices, refs)) },
    { path: 'plugin.ts', contents: entry(choices) },
    // For `deno check` and editors using Deno: the SDK's source, as the bundler feeds it to
    // Deno. Its own compilerOptions, so Deno does not take tsconfig.json's (whose lib has no Deno).
    {
      path: 'deno.json',
      contents: json({ compilerOptions: { strict: true }, imports: { 'manasvi-plugins/plugin-sdk': refs.sdkSource } }),
    },
    // For `tsc` and editors using TypeScript: the SDK's declarations.
    {
      path: 'tsconfig.json',
      contents: json({
        compilerOptions: {
          strict: true,
          noEmit: true,
          target: 'ES2022',
          module: 'ESNext',
          moduleResolution: 'Bundler',
          allowImportingTsExtensions: true,
          lib: ['ES2022', 'DOM'],
          types: [],
          paths: { 'manasvi-plugins/plugin-sdk': [refs.sdkTypes] },
        },
        include: ['plugin.ts'],
      }),
    },
    { path: 'plugin.test.mjs', contents: exampleTest(choices, refs) },
    {
      path: 'README.md',
      contents: [
        `# ${choices.name}`,
        '',
        'A Manasvi plugin: `manifest.json` declares what it may do, `plugin.ts` holds its tool',
        `handlers, \`plugin.test.mjs\` calls \`${choices.tool}\` through the runtime (\`node --test\`).`,
        ...policyNote(choices),
        '',
      ].join('\n'),
    },
  ];
  if (choices.capabilities.includes('access-filesystem')) files.push({ path: 'data/.gitkeep', contents: '' });
  return files;
}
