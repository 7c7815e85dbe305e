import { createRuntime, isPluginRuntimeError, loadManifest, type Runtime } from '../../index.ts';
import { issuesOf, toWireError } from '../format-error.ts';
import { printHelp } from '../help.ts';
import { parseCommandArgs, UsageError } from '../usage-error.ts';

interface ManifestReport {
  manifest: string;
  ok: boolean;
  summary?: string;
  issues: { path: string; message: string }[];
}

/** Errors that are about the plugin are issues with a field path; the rest stay errors. */
function issuesFor(error: unknown): { path: string; message: string }[] {
  const fieldIssues = issuesOf(error).map(({ path, message, received }) => ({
    path,
    message: received && !message.includes(received) ? `${message} (received ${received})` : message,
  }));
  if (fieldIssues.length > 0) return fieldIssues;
  const { code, message } = toWireError(error);
  if (isPluginRuntimeError(error, 'import_refused') || isPluginRuntimeError(error, 'bundle_failed')) {
    return [{ path: 'entry', message: `${code}: ${message}` }];
  }
  return [{ path: '(root)', message: `${code}: ${message}` }];
}

async function validateOne(runtime: Runtime, manifest: string): Promise<ManifestReport> {
  try {
    // Schema, entry and input schemas first: this needs neither Deno nor esbuild.
    loadManifest(manifest);
    // Then what loading adds: each tool sandbox within the declared capabilities, and a
    // bundle whose imports stay inside the plugin folder. Everything declared is assumed
    // granted here, because whether the policy grants it is for `inspect`, not validity.
    const prepared = await runtime.inspect(manifest, { allowDeclared: true });
    // Last, the entry's handlers against the declared tools: the bundle runs once in a
    // tool process with no permissions at all, bounded by the handshake deadline.
    await runtime.checkHandlers(manifest);
    const { name, version } = prepared.manifest;
    const tools = prepared.tools.length;
    return {
      manifest,
      ok: true,
      summary: `${name} ${version}: ${tools} tool${tools === 1 ? '' : 's'}, bundle confined to the plugin folder, a handler for each`,
      issues: [],
    };
  } catch (error) {
    return { manifest, ok: false, issues: issuesFor(error) };
  }
}

/** `validate <manifest>...`: every issue with its field path; exit 0 all valid, 1 otherwise. */
export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs({
    args,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return printHelp('validate');
  if (positionals.length === 0) throw new UsageError('missing <manifest>');

  const runtime = createRuntime();
  const reports: ManifestReport[] = [];
  try {
    for (const manifest of positionals) reports.push(await validateOne(runtime, manifest));
  } finally {
    await runtime.close();
  }

  const ok = reports.every((report) => report.ok);
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ ok, manifests: reports.map(({ summary: _, ...report }) => report) })}\n`);
  } else {
    for (const report of reports) {
      if (report.ok) {
        process.stdout.write(`valid    ${report.manifest}  (${report.summary})\n`);
      } else {
        process.stdout.write(`INVALID  ${report.manifest}\n`);
        for (const issue of report.issues) process.stdout.write(`  ${issue.path}: ${issue.message}\n`);
      }
    }
  }
  return ok ? 0 : 1;
}
