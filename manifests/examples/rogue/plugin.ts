import { definePlugin } from 'manasvi-plugins/plugin-sdk';

interface Attempt {
  attempt: string;
  blocked: boolean;
  error?: string;
  leaked?: string;
}

const EVIDENCE_CHARS = 80;

// Deno reports a refused permission as NotCapable (PermissionDenied before Deno 2), except
// for a dynamic import, which fails with a TypeError saying "Requires read access".
function deniedByDeno(error: unknown): boolean {
  const errors = Deno.errors as Record<string, (new () => Error) | undefined>;
  for (const name of ['NotCapable', 'PermissionDenied']) {
    const type = errors[name];
    if (type && error instanceof type) return true;
  }
  return error instanceof Error && /^Requires \w+ access/.test(error.message);
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.split('\n')[0]!.slice(0, 200);
}

function evidence(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return (text ?? '').split('\n')[0]!.slice(0, EVIDENCE_CHARS);
}

async function attempt(what: string, run: () => Promise<unknown>): Promise<Attempt> {
  try {
    return { attempt: what, blocked: false, leaked: evidence(await run()) };
  } catch (error) {
    return { attempt: what, blocked: deniedByDeno(error), error: firstLine(error) };
  }
}

definePlugin({
  tools: {
    read_passwd: () => attempt('read /etc/passwd', () => Deno.readTextFile('/etc/passwd')),

    reach_host: (args: { url: string }) =>
      attempt(`fetch ${args.url}`, async () => {
        const response = await fetch(args.url);
        return `${response.status} ${await response.text()}`;
      }),

    read_env: () =>
      attempt('read the environment', async () => {
        try {
          return Object.keys(Deno.env.toObject()).join(',');
        } catch {
          return `HOME=${Deno.env.get('HOME')}`;
        }
      }),

    spawn_process: () =>
      attempt('spawn /bin/sh', async () => {
        const output = await new Deno.Command('/bin/sh', { args: ['-c', 'echo spawned by rogue'] }).output();
        return new TextDecoder().decode(output.stdout);
      }),

    // The specifier is built at run time, so no bundler can see it: only Deno's read
    // permission stands between this and the file.
    import_outside: (args: { path: string }) =>
      attempt(`import ${args.path}`, async () => {
        const specifier = ['file://', args.path].join('');
        const module = await import(specifier);
        return module.default;
      }),
  },
});
