import type { ToolNetworkPath } from '../../egress/network-path.ts';
import {
  createRuntime,
  type GrantDecision,
  type Grants,
  isPluginRuntimeError,
  type PreparedPlugin,
  type Runtime,
  type WidenedScope,
} from '../../index.ts';
import { formatError, toWireError } from '../format-error.ts';
import { grantAdviceLines } from '../grant-advice-lines.ts';
import { printHelp } from '../help.ts';
import { RUNTIME_FLAGS, runtimeOptions } from '../runtime-options.ts';
import { shellLines } from '../shell-quote.ts';
import { expectPositionals, parseCommandArgs } from '../usage-error.ts';

function describeGrants(grants: Grants): string[] {
  const list = (items: string[]) => (items.length > 0 ? items.join(', ') : 'none');
  return [
    `provide-tools: ${grants.provideTools ? 'yes' : 'no'}`,
    `network: ${list(grants.network)}`,
    `read: ${list(grants.read)}`,
    `write: ${list(grants.write)}`,
    `secrets: ${list(grants.secrets)}`,
  ];
}

function describeDecision({ capability, scope, granted, rule }: GrantDecision): string {
  return `${granted ? 'granted' : 'REFUSED'}  ${capability} ${scope}\n             rule: ${rule}`;
}

interface PolicyLabel {
  file: string | undefined;
  allowDeclared: boolean;
}

function describePolicy({ file, allowDeclared }: PolicyLabel): string {
  const base = file === undefined ? 'default (nothing but provide-tools)' : `policy file ${file}`;
  return allowDeclared ? `${base} + allow-declared (DEVELOPMENT: everything declared is granted)` : base;
}

function describeWidened(widened: WidenedScope[], against: string | undefined): string[] {
  if (widened.length === 0) return [`compared with ${against}: nothing widened`];
  return [
    `compared with ${against}: the update WIDENS ${widened.length} scope(s); approve them before granting:`,
    ...widened.map(({ where, capability, scope }) => `  + ${where}: ${capability} ${scope}`),
  ];
}

function toJson(prepared: PreparedPlugin, policy: PolicyLabel, widened: WidenedScope[] | undefined) {
  return {
    ok: true,
    plugin: prepared.manifest.name,
    version: prepared.manifest.version,
    manifest: prepared.manifestPath,
    policy: { file: policy.file ?? null, allowDeclared: policy.allowDeclared },
    bundle: { path: prepared.bundlePath, sha256: prepared.bundleSha256 },
    grants: prepared.grants,
    decisions: prepared.decisions,
    limits: prepared.limits,
    ...(widened === undefined ? {} : { widened }),
    tools: prepared.tools.map(({ name, description, grants, timeoutMs, argv, command, layers, network }) => ({
      name,
      description,
      timeoutMs: timeoutMs ?? null,
      grants,
      argv,
      command,
      layers,
      network,
    })),
  };
}

function toText(prepared: PreparedPlugin, policy: PolicyLabel): string {
  const { manifest, manifestPath } = prepared;
  const lines = [
    `plugin   ${manifest.name} ${manifest.version}`,
    `manifest ${manifestPath}`,
    `policy   ${describePolicy(policy)}`,
    `bundle   ${prepared.bundlePath}`,
    '',
    'declared capabilities:',
    ...(prepared.decisions.length > 0 ? prepared.decisions.map((d) => `  ${describeDecision(d)}`) : ['  (none)']),
    '',
    'plugin grants (the ceiling for its tools):',
    ...describeGrants(prepared.grants).map((line) => `  ${line}`),
    '',
    `limits per process: heap ${prepared.limits.heapMb} MB, RSS ${prepared.limits.rssMb} MB, CPU ${prepared.limits.cpuSeconds} s, ` +
      `file size ${prepared.limits.fileSizeMb} MB, ${prepared.limits.maxConcurrent} concurrent calls`,
    '',
    'tools (each runs in its own Deno process with exactly these grants):',
  ];
  for (const tool of prepared.tools) {
    lines.push(`  ${tool.name}: ${tool.description}`);
    lines.push(...describeGrants(tool.grants).map((line) => `    ${line}`));
    lines.push(`    layers: ${tool.layers.join(', ')}`);
    lines.push(`    network: ${describeNetworkPath(tool.network, tool.argv)}`);
    lines.push('    command (exactly as spawned, without its environment):', ...shellLines(tool.command, '      '));
  }
  return `${lines.join('\n')}\n`;
}

/** One line on how a tool reaches the network: the gateway, from which namespace, under which Deno flags. */
export function describeNetworkPath(network: ToolNetworkPath, argv: readonly string[]): string {
  if (network.via === 'none') return network.namespace === 'empty' ? 'none (an empty network namespace; --deny-net)' : 'none (--deny-net)';
  const from = network.namespace === 'bridged' ? "from a network namespace of its own, bridged to the gateway alone (DNS resolves nothing)" : "from the host's network";
  const flags = argv.filter((arg) => arg.startsWith('--allow-net') || arg.startsWith('--deny-net')).map((arg) => (arg.length > 120 ? `${arg.slice(0, 117)}...` : arg));
  const injected = network.injections.map((i) => `; ${i.name} injected into requests to ${i.host}:${i.port} (${i.header})`).join('');
  return `through the egress gateway ${network.gateway ?? ''} ${from}; rules ${network.rules.map((rule) => rule.entry + (rule.named ? '' : ' (public addresses only)')).join(', ')}${injected}; Deno ${flags.join(' ')}`;
}

/** What a sandbox asked for that the policy did not grant, from a `sandbox_exceeds_grants` error. */
function refusedFields(error: unknown): string[] {
  if (!isPluginRuntimeError(error, 'sandbox_exceeds_grants') || !error.details) return [];
  const { tool, refused } = error.details;
  const decisions = error.loadDecisions?.decisions;
  return [
    ...refused.map(({ field, entry }) => `  REFUSED  tools.${tool}.sandbox.${field}: ${entry}`),
    ...(decisions ? ['', 'declared capabilities:', ...decisions.map((d) => `  ${describeDecision(d)}`)] : []),
  ];
}

/** `inspect <manifest>`: grants, decisions with their rules, and each tool's exact argv. */
export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs({
    args,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      against: { type: 'string' },
      ...RUNTIME_FLAGS,
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return printHelp('inspect');
  const [manifest] = expectPositionals(positionals, ['manifest']) as [string];
  const policy: PolicyLabel = { file: values.policy, allowDeclared: values['allow-declared'] };
  const options = runtimeOptions(values);

  let runtime: Runtime | undefined;
  let widened: WidenedScope[] | undefined;
  try {
    runtime = createRuntime(options);
    // The diff first, before any grant check: a policy refusing the update is exactly when
    // an operator needs to see what the update widens.
    widened = values.against === undefined ? undefined : runtime.compare(values.against, manifest);
    if (!values.json && widened !== undefined) process.stdout.write(`${describeWidened(widened, values.against).join('\n')}\n\n`);
    const prepared = await runtime.inspect(manifest);
    process.stdout.write(
      values.json ? `${JSON.stringify(toJson(prepared, policy, widened), null, 2)}\n` : toText(prepared, policy),
    );
    // Widening is what an operator must not miss, so it fails the command (and a CI step).
    return widened !== undefined && widened.length > 0 ? 1 : 0;
  } catch (error) {
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ ok: false, error: toWireError(error), ...(widened === undefined ? {} : { widened }) })}\n`);
    } else {
      process.stderr.write(formatError(error));
      const refused = refusedFields(error);
      if (refused.length > 0) {
        process.stderr.write(`\nnot granted:\n${refused.join('\n')}\n`);
        for (const line of grantAdviceLines(error)) process.stderr.write(`${line}\n`);
      }
    }
    return 1;
  } finally {
    await runtime?.close();
  }
}
