import { randomBytes } from 'node:crypto';
import { chmodSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { EgressEvent, EgressLaunch } from './egress-launch.ts';
import { GatewayCredentials } from './gateway-credentials.ts';
import { type Judgement, judgeDestination } from './judge-destination.ts';
import { relayBytes } from './relay-bytes.ts';
import { absoluteTarget, connectTarget } from './proxy-targets.ts';
import { forwardRequest } from './forward-request.ts';
import { openUpstream, plainUpgradeHead } from './upstream.ts';
import type { VetContext } from './vet-address.ts';
import { injectionFor, interceptForInjection, type Interception } from './inject-at-egress.ts';
import { GATEWAY_REFUSAL, refuseRaw } from './gateway-refusal.ts';

export interface GatewayOptions extends VetContext {
  /** The loopback address the TCP listener binds (a random one in 127/8, so a service bound to 127.0.0.1 is not it). */
  listenHost: string;
  /** The Unix socket the network-namespace bridge connects to. */
  socketPath: string;
  /** How long dialling an upstream may take. */
  connectTimeoutMs: number;
  /** Terminates TLS for hosts with a secret injection (absent: no injection possible). */
  interception?: Interception;
}

/** Where tool processes reach the gateway. */
export interface GatewayAddress {
  host: string;
  port: number;
  socketPath: string;
}

const MAX_HEAD_BYTES = 16 * 1024;
/**
 * How long an upstream connection for plain requests waits in a launch's pool for its
 * next request. The budget counts a connection while a request is on it: without an end,
 * every host and port a tool ever asked (an upstream of its own keeps them open) would
 * hold a descriptor of the host's until the process exits.
 */
const UPSTREAM_IDLE_MS = 4_000;

const PROXY_AUTHENTICATE = 'Basic realm="manasvi-egress"';
const NO_CREDENTIAL = 'this gateway needs its launch credential';

/** What every record of one connection shares. */
type TargetEvent = Pick<EgressEvent, 'kind' | 'host' | 'port'>;
/** A destination the gateway will dial. */
type Admitted = Extract<Judgement, { ok: true }>;

/**
 * The host's egress gateway: the only way a tool with network grants reaches the network.
 * An HTTP proxy speaking plain forward requests, CONNECT (HTTPS and WebSocket over TLS
 * pass through undecrypted) and plain-HTTP upgrades, on a loopback TCP port (tools in the
 * host's network) and a Unix socket (the bridge into a tool's own network namespace).
 * Every request carries its launch's credential; each connection is judged against that
 * tool's grants, its name resolved by the host once and the vetted address dialled; each
 * one ends in an `egress` record with bytes each way and duration.
 */
export class EgressGateway {
  readonly #o: GatewayOptions;
  readonly #credentials = new GatewayCredentials<EgressLaunch>();
  readonly #http: http.Server;
  readonly #tcp: net.Server;
  readonly #unix: net.Server;
  readonly #sockets = new Set<net.Socket>();
  /** The tool-side connections each launch's credential was accepted on, ended by its `revoke`. */
  readonly #held = new Map<EgressLaunch, Set<Duplex>>();
  /** Each launch's own pool of upstream connections for plain requests: never shared between launches. */
  readonly #agents = new Map<EgressLaunch, http.Agent>();
  #address: GatewayAddress | undefined;

  private constructor(o: GatewayOptions) {
    this.#o = o;
    this.#http = http.createServer({ maxHeaderSize: MAX_HEAD_BYTES, requestTimeout: 0 });
    // A handler that throws must cost one connection, never the host (an unhandled rejection ends Node).
    const guarded = (work: Promise<void>, socket: Duplex) => void work.catch(() => socket.destroy());
    this.#http.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => guarded(this.#onRequest(req, res), req.socket));
    this.#http.on('connect', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => guarded(this.#onConnect(req, socket, head), socket));
    this.#http.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => guarded(this.#onUpgrade(req, socket, head), socket));
    this.#http.on('clientError', (_error: Error, socket: Duplex) => socket.destroy());
    const accept = (socket: net.Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
      socket.setNoDelay(true);
      this.#http.emit('connection', socket);
    };
    this.#tcp = net.createServer(accept);
    this.#unix = net.createServer(accept);
    // An accept that fails (no descriptors left) must not end the host: the listener carries on.
    for (const server of [this.#tcp, this.#unix]) server.on('error', () => {});
  }

  /** Starts listening on both; neither keeps the host's event loop alive on its own. */
  static async start(o: GatewayOptions): Promise<EgressGateway> {
    const gateway = new EgressGateway(o);
    await gateway.#listen();
    return gateway;
  }

  /** A random address in 127.0.0.0/8 other than 127.0.0.1. */
  static randomLoopback(): string {
    const [a, b, c] = randomBytes(3);
    return `127.${1 + (a! % 254)}.${1 + (b! % 254)}.${1 + (c! % 254)}`;
  }

  get address(): GatewayAddress {
    if (!this.#address) throw new Error('the egress gateway is not listening');
    return this.#address;
  }

  async #listen(): Promise<void> {
    const listen = (server: net.Server, options: net.ListenOptions) =>
      new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(options, () => {
          server.off('error', reject);
          server.unref();
          resolve();
        });
      });
    rmSync(this.#o.socketPath, { force: true });
    await listen(this.#tcp, { host: this.#o.listenHost, port: 0 });
    await listen(this.#unix, { path: this.#o.socketPath });
    chmodSync(this.#o.socketPath, 0o600);
    const { port } = this.#tcp.address() as net.AddressInfo;
    this.#address = { host: this.#o.listenHost, port, socketPath: this.#o.socketPath };
  }

  /**
   * Admits one launch: the proxy URL (with its credential) its environment carries. The
   * credential is valid until `revoke`, which also ends every connection still open.
   */
  register(launch: EgressLaunch): { proxyUrl: string; revoke(): void } {
    const { user, password } = this.#credentials.issue(launch.launchId, launch);
    const { host, port } = this.address;
    return {
      proxyUrl: `http://${encodeURIComponent(user)}:${password}@${host}:${port}`,
      revoke: () => {
        this.#credentials.revoke(user);
        for (const socket of this.#held.get(launch) ?? []) socket.destroy();
        this.#held.delete(launch);
        this.#agents.get(launch)?.destroy();
        this.#agents.delete(launch);
      },
    };
  }

  /** Stops listening and ends every connection. */
  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    for (const agent of this.#agents.values()) agent.destroy();
    this.#agents.clear();
    await Promise.all([this.#tcp, this.#unix].map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    try {
      rmSync(this.#o.socketPath, { force: true });
    } catch {
      // Its folder is gone or replaced: nothing of ours is left to remove.
    }
  }

  #agentOf(launch: EgressLaunch): http.Agent {
    let agent = this.#agents.get(launch);
    if (!agent) this.#agents.set(launch, (agent = new http.Agent({ keepAlive: true, maxSockets: 64, timeout: UPSTREAM_IDLE_MS })));
    return agent;
  }

  /** The launch a request's credential stands for; the connection it came on is then that launch's to end. */
  #launchOf(req: http.IncomingMessage, socket: Duplex): EgressLaunch | undefined {
    const launch = this.#credentials.verify(req.headers['proxy-authorization']);
    if (!launch) return undefined;
    let held = this.#held.get(launch);
    if (!held) this.#held.set(launch, (held = new Set()));
    if (!held.has(socket)) {
      held.add(socket);
      const kept = held;
      socket.once('close', () => kept.delete(socket));
    }
    return launch;
  }

  /** A plain `http://` request in absolute form: judged, then forwarded to the vetted address. */
  async #onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const launch = this.#launchOf(req, req.socket);
    if (!launch) {
      res.writeHead(407, { 'Proxy-Authenticate': PROXY_AUTHENTICATE, 'Content-Type': 'text/plain', Connection: 'close' }).end(`${NO_CREDENTIAL}\n`);
      return;
    }
    const target = absoluteTarget(req.url, ['http:']);
    if (!target) {
      res.writeHead(400, { 'Content-Type': 'text/plain' }).end('only http:// requests in absolute form, or CONNECT\n');
      return;
    }
    const started = Date.now();
    const event = { kind: 'http' as const, host: target.host, port: target.port };
    const admitted = await this.#admit(launch, event, true);
    if (!admitted.ok) {
      res.writeHead(403, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`${admitted.reason}\n`);
      return;
    }
    const { judged } = admitted;
    const forwarding = { address: judged.address, port: target.port, family: judged.family, path: target.path, connectTimeoutMs: this.#o.connectTimeoutMs };
    const { unanswered, ...totals } = await forwardRequest(req, res, { ...forwarding, agent: this.#agentOf(launch), moved: (n) => launch.budget.moved(n) });
    launch.budget.closed();
    const outcome = unanswered === undefined ? { decision: 'allowed' as const, rule: judged.rule.entry } : { decision: 'refused' as const, rule: unanswered };
    launch.record({ ...event, ...outcome, address: judged.address, ...totals, durationMs: Date.now() - started });
  }

  /** CONNECT host:port: judged, then a byte tunnel to the vetted address (or TLS terminated for a host with an injection). */
  async #onConnect(req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    const launch = this.#launchOf(req, socket);
    if (!launch) return refuseRaw(socket, 407, NO_CREDENTIAL, `Proxy-Authenticate: ${PROXY_AUTHENTICATE}\r\n`);
    const target = connectTarget(req.url);
    if (!target) return refuseRaw(socket, 400, 'CONNECT needs host:port');
    const dns = req.headers['x-manasvi-dns'];
    if (dns !== undefined) {
      const rule = `DNS is closed inside the tool's network namespace (query type ${String(dns).slice(0, 8)}): names are resolved by the gateway only`;
      launch.record({ kind: 'dns', host: target.host, port: target.port, decision: 'refused', rule });
      return refuseRaw(socket, 403, 'DNS is closed');
    }
    const event = { kind: 'connect' as const, ...target };
    const admitted = await this.#admit(launch, event, false);
    if (!admitted.ok) return refuseRaw(socket, 403, admitted.reason);
    const { judged } = admitted;
    const injection = injectionFor(launch, target.host, target.port);
    if (!injection) return this.#tunnel(launch, event, judged, socket, head, () => void socket.write('HTTP/1.1 200 Connection Established\r\n\r\n'));
    const outcome = await interceptForInjection(this.#o.interception, launch, injection, socket, head, { ...target, address: judged.address });
    launch.budget.closed();
    const { refused, ...totals } = outcome;
    launch.record({ ...event, decision: refused ? 'refused' : 'allowed', rule: refused ?? judged.rule.entry, address: judged.address, ...totals, injected: injection.name });
  }

  /** A plain `ws://` upgrade in absolute form: judged, the request passed on, then bytes both ways. */
  async #onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    const launch = this.#launchOf(req, socket);
    if (!launch) return refuseRaw(socket, 407, NO_CREDENTIAL, `Proxy-Authenticate: ${PROXY_AUTHENTICATE}\r\n`);
    const target = absoluteTarget(req.url, ['http:', 'ws:']);
    if (!target) return refuseRaw(socket, 400, 'only ws:// or http:// upgrades in absolute form');
    const event = { kind: 'websocket' as const, host: target.host, port: target.port };
    const admitted = await this.#admit(launch, event, true);
    if (!admitted.ok) return refuseRaw(socket, 403, admitted.reason);
    return this.#tunnel(launch, event, admitted.judged, socket, head, (upstream) => void upstream.write(plainUpgradeHead(req, target.path)));
  }

  /**
   * Judges a destination; a refusal is recorded and returned as the text the tool is told.
   * `plainOnly`: this path carries no TLS, so a host with a secret injected is refused.
   */
  async #admit(launch: EgressLaunch, event: TargetEvent, plainOnly: boolean): Promise<{ ok: true; judged: Admitted } | { ok: false; reason: string }> {
    const judged = await judgeDestination(launch, event.host, event.port, this.#o);
    if (!judged.ok) {
      launch.record({ ...event, decision: 'refused', rule: judged.reason, ...(judged.address ? { address: judged.address } : {}) });
      return { ok: false, reason: `${GATEWAY_REFUSAL}${judged.reason}` };
    }
    if (plainOnly && injectionFor(launch, event.host, event.port)) {
      launch.budget.closed();
      const reason = `${event.host}:${event.port} has a secret injected at egress: only HTTPS may carry it`;
      launch.record({ ...event, decision: 'refused', rule: reason, address: judged.address });
      return { ok: false, reason: `${GATEWAY_REFUSAL}${reason}` };
    }
    return { ok: true, judged };
  }

  /** Dials the vetted address, lets `begin` open the exchange, then relays bytes both ways until either side closes. */
  async #tunnel(launch: EgressLaunch, event: TargetEvent, judged: Admitted, socket: Duplex, head: Buffer, begin: (upstream: net.Socket) => void): Promise<void> {
    const upstream = await openUpstream(judged.address, event.port, judged.family, this.#o.connectTimeoutMs);
    if (!upstream.ok) {
      launch.budget.closed();
      launch.record({ ...event, decision: 'refused', rule: `upstream unreachable: ${upstream.reason}`, address: judged.address });
      return refuseRaw(socket, 502, `the gateway could not reach ${event.host}:${event.port}: ${upstream.reason}`);
    }
    begin(upstream.socket);
    const totals = await relayBytes(socket, upstream.socket, (n) => launch.budget.moved(n), head);
    launch.budget.closed();
    launch.record({ ...event, decision: 'allowed', rule: judged.rule.entry, address: judged.address, ...totals });
  }
}
