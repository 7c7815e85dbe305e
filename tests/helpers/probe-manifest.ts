/** The probe fixture's argument schema: what to try, and on what. */
export const PROBE_INPUT = {
  type: 'object',
  properties: {
    action: {
      enum: [
        'read', 'write', 'fetch', 'env', 'env-all', 'run', 'ffi', 'sys', 'import',
        'fetch-file', 'listen', 'symlink', 'node-read', 'node-run', 'node-sys', 'node-env',
      ],
    },
    target: { type: 'string' },
    text: { type: 'string' },
    link: { type: 'string' },
  },
  required: ['action'],
  additionalProperties: false,
};

export interface ProbeSandbox {
  network?: string[];
  filesystem?: { read?: string[]; write?: string[] };
}

/**
 * A manifest for the probe fixture (tests/fixtures/plugins/probe): its capabilities, and
 * which of its tool names (`attempt`, `alpha`, `beta`, `bare`) it declares, with what sandbox.
 */
export function probeManifest(
  name: string,
  capabilities: Record<string, unknown>,
  tools: Partial<Record<'attempt' | 'alpha' | 'beta' | 'bare', ProbeSandbox | null>>,
): Record<string, unknown> {
  return {
    name,
    version: '1.0.0',
    entry: 'plugin.ts',
    capabilities: { 'provide-tools': true, ...capabilities },
    tools: Object.fromEntries(
      Object.entries(tools).map(([tool, sandbox]) => [
        tool,
        { description: `Tries what it is asked to, as ${tool}.`, input: PROBE_INPUT, ...(sandbox ? { sandbox } : {}) },
      ]),
    ),
  };
}
