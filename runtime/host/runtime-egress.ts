import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AuditFields } from '../audit/audit-record.ts';
import type { SecretStore } from '../capabilities/secret-store.ts';
import type { LaunchConfig } from '../config/launch-config.ts';
import { ConnectionBudget, type BudgetHooks, type EgressLimits } from '../egress/connection-budget.ts';
import type { EgressEvent } from '../egress/egress-launch.ts';
import { EgressGateway } from '../egress/egress-gateway.ts';
import { egressRule, type EgressRule } from '../egress/egress-rules.ts';
import { systemLookup } from '../egress/vet-address.ts';
import { type CertificateAuthority, createCertificateAuthority } from '../egress/certificates/certificate-authority.ts';
import type { Interception } from '../egress/inject-at-egress.ts';
import { interceptTls } from '../egress/interception/tls-interception.ts';
import type { SecretInjection } from '../grants/grants.ts';
import { hostStorageDir } from '../launch/process-storage.ts';
import { PluginRuntimeError } from '../errors.ts';
import type { ToolEgress } from '../launch/os-limits.ts';
import { readOwnAddresses } from '../policy/local-names.ts';
import type { ResolvedPolicy } from '../policy/resolved-policy.ts';
import { networkGrantCovers } from '../scopes/network-scope.ts';
import type { EgressLease } from '../supervisor/tool-process-options.ts';

/** A Unix socket path must fit in `sockaddr_un` (108 bytes with its terminator). */
const MAX_SOCKET_PATH = 100;

/**
 * True when the operator named `entry` exactly: development mode (everything declared),
 * or a policy entry that is neither `"*"` nor a wildcard and covers it. Only such a grant
 * may lead to a loopback, private or other special address at the gateway.
 */
export function namedByOperator(entry: string, plugin: string, policy: ResolvedPolicy | undefined, allowDeclared: boolean): boolean {
  if (allowDeclared) return true;
  const entries = policy?.plugins.get(plugin)?.network ?? [];
  return entries.some((granted) => granted !== '*' && !granted.startsWith('*.') && networkGrantCovers(granted, entry));
}

/** The rules one tool's grants make at the gateway. */
export function egressRulesFor(network: readonly string[], named: (entry: string) => boolean): EgressRule[] {
  return network.map((entry) => egressRule(entry, named(entry)));
}

export interface LeaseInput {
  plugin: string;
  tool: string;
  rules: readonly EgressRule[];
  injections: readonly SecretInjection[];
  limits: EgressLimits;
}

/**
 * The runtime's egress gateway, started on first need: where it listens (a random address
 * in 127/8 and a Unix socket in this host's process folder, swept with it if the host
 * dies), and the leases that admit each launch of a tool with network grants.
 */
export class RuntimeEgress {
  readonly #config: LaunchConfig;
  readonly #processStorageDir: string;
  readonly #audit: (fields: AuditFields) => void;
  readonly #secrets: SecretStore;
  readonly #denyHosts: readonly string[];
  readonly #trusted: readonly string[];
  #started: Promise<EgressGateway> | undefined;
  #authority: { ca: CertificateAuthority; file: string } | undefined;
  #gateway: EgressGateway | undefined;
  #ownAddresses: { at: number; set: ReadonlySet<string> } = { at: 0, set: new Set() };

  constructor(o: {
    config: LaunchConfig;
    processStorageDir: string;
    audit: (fields: AuditFields) => void;
    secrets: SecretStore;
    policy: ResolvedPolicy | undefined;
    trustedCertificates?: readonly string[] | undefined;
  }) {
    this.#trusted = o.trustedCertificates ?? [];
    this.#config = o.config;
    this.#processStorageDir = o.processStorageDir;
    this.#audit = o.audit;
    this.#secrets = o.secrets;
    this.#denyHosts = o.policy?.deny.hosts ?? [];
  }

  /** Starts the gateway once (and the runtime's certificate authority); every later call gets the same one. */
  ready(): Promise<EgressGateway> {
    this.#started ??= this.#start().catch((cause: unknown) => {
      // The next load tries again: a folder fixed, a port freed.
      this.#started = undefined;
      throw new PluginRuntimeError('config_invalid', `the egress gateway could not start: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    });
    return this.#started;
  }

  async #start(): Promise<EgressGateway> {
    const ca = createCertificateAuthority();
    const file = path.join(this.#hostDir(), `egress-ca-${randomBytes(6).toString('hex')}.pem`);
    ca.writeCertificate(file);
    this.#authority = { ca, file };
    const gateway = await EgressGateway.start({
      listenHost: EgressGateway.randomLoopback(),
      socketPath: this.#socketPath(),
      connectTimeoutMs: this.#config.egress.connectTimeoutMs,
      resolveTimeoutMs: this.#config.egress.resolveTimeoutMs,
      denyHosts: this.#denyHosts,
      lookup: systemLookup,
      ownAddresses: () => this.#currentOwnAddresses(),
      interception: this.#interception(ca),
    });
    this.#gateway = gateway;
    return gateway;
  }

  /** TLS terminated toward the tool with a leaf of the runtime's own CA, for a host with an injection. */
  #interception(ca: CertificateAuthority): Interception {
    return {
      intercept: async (tool, target, injection, moved, refused) => {
        const abort = new AbortController();
        const totals = { bytesUp: 0, bytesDown: 0 };
        await interceptTls(tool, {
          ...target,
          leaf: ca.leafFor(target.host),
          injection,
          upstreamCa: [...this.#trusted],
          onBytes: (up, down) => {
            totals.bytesUp += up;
            totals.bytesDown += down;
            if (!moved(up + down)) abort.abort();
          },
          onRefused: refused,
          signal: abort.signal,
        });
        return totals;
      },
    };
  }

  /** How tools reach the started gateway (what their command and argv name), and the CA file a tool with an injection trusts. */
  toolEgress(): ToolEgress | undefined {
    const gateway = this.#gateway;
    return gateway ? { gateway: gateway.address, ...(this.#authority ? { caFile: this.#authority.file } : {}) } : undefined;
  }

  /** Admits one launch: its proxy variables, and the budget its calls open. */
  lease(input: LeaseInput, launchId: string, hooks: BudgetHooks): EgressLease {
    const gateway = this.#gateway;
    if (!gateway) throw new Error('the egress gateway was not started before a networked launch');
    const budget = new ConnectionBudget(input.limits, hooks);
    const cap = this.#config.limits.auditDenialsPerLaunch;
    let refusals = 0;
    let unrecorded = 0;
    const subject = { plugin: input.plugin, tool: input.tool, launchId };
    const record = (event: EgressEvent) => {
      if (event.decision === 'refused') {
        if (refusals >= cap) {
          unrecorded++;
          return;
        }
        refusals++;
        if (refusals === cap) return this.#audit({ type: 'egress', ...subject, ...event, suppressingFurther: true });
      }
      this.#audit({ type: 'egress', ...subject, ...event });
    };
    const registration = gateway.register({
      ...subject,
      rules: input.rules,
      injections: input.injections,
      budget,
      readSecret: async (name) => this.#secrets.get(name),
      record,
    });
    const env: Record<string, string> = {
      HTTP_PROXY: registration.proxyUrl,
      HTTPS_PROXY: registration.proxyUrl,
      // node:http and node:https in Deno follow the proxy variables only when told to.
      NODE_USE_ENV_PROXY: '1',
    };
    // Only a tool with an injection trusts the runtime's CA, for the hosts it injects into (Deno and Node document these as added to their default roots).
    if (input.injections.length > 0 && this.#authority) {
      env['DENO_CERT'] = this.#authority.file;
      env['NODE_EXTRA_CA_CERTS'] = this.#authority.file;
    }
    return {
      env,
      callStarted: () => budget.callStarted(),
      revoke: () => registration.revoke(),
      get unrecorded() {
        return unrecorded;
      },
    };
  }

  async close(): Promise<void> {
    const gateway = await this.#started?.catch(() => undefined);
    await gateway?.close();
    try {
      if (this.#authority) rmSync(this.#authority.file, { force: true });
    } catch {
      // Its folder is gone or replaced: nothing of ours is left to remove.
    }
  }

  /** This host's process folder (swept with the host's other leftovers if it dies). */
  #hostDir(): string {
    const hostDir = hostStorageDir(this.#processStorageDir);
    mkdirSync(hostDir, { recursive: true, mode: 0o700 });
    return hostDir;
  }

  #socketPath(): string {
    const name = `egress-${randomBytes(6).toString('hex')}.sock`;
    const inState = path.join(this.#hostDir(), name);
    return inState.length <= MAX_SOCKET_PATH ? inState : path.join(os.tmpdir(), `manasvi-${process.pid}-${name}`);
  }

  /** This machine's own addresses, read again at most once a second (interfaces change). */
  #currentOwnAddresses(): ReadonlySet<string> {
    const now = Date.now();
    if (now - this.#ownAddresses.at > 1000) this.#ownAddresses = { at: now, set: readOwnAddresses() };
    return this.#ownAddresses.set;
  }
}
