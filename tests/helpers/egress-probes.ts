import http from 'node:http';
import type { Test } from 'tap';
import type { AuditRecord } from '../../runtime/index.ts';
import { plantPlugin } from './fixtures.ts';
import { type CountingServer, loopbackHttp } from './loopback-server.ts';

/** An `egress` audit record, with the tool and launch it always names. */
export type EgressRecord = AuditRecord<'egress'> & { tool: string; launchId: string };

/** What one probe of the egress-prober fixture reports: how the attempt ended. */
export type ProbeResult = { ok: boolean; status?: number; bytes?: number; body?: string; error?: string; message?: string; [key: string]: unknown };

/** The `egress` records among `records` whose fields equal every one `query` gives. */
export function egressRecords(records: readonly AuditRecord[], query: Partial<Omit<EgressRecord, keyof AuditRecord>> = {}): EgressRecord[] {
  return records.filter((record): record is EgressRecord => record.type === 'egress' && Object.entries(query).every(([key, value]) => (record as Record<string, unknown>)[key] === value));
}

/**
 * Plants the egress-prober fixture as `name` (default its own) with the network grants each
 * of its two tools' sandboxes names; the plugin declares their union and `declared`
 * (entries no tool's sandbox names, for a test that only inspects the plugin's decisions).
 */
export function plantEgressProber(root: string, grants: { probe: string[]; other?: string[]; declared?: string[] }, name = 'cap-egress-prober'): string {
  return plantPlugin(
    root,
    'egress-prober',
    (manifest) => {
      manifest.name = name;
      manifest.capabilities['access-network'] = [...new Set([...grants.probe, ...(grants.other ?? []), ...(grants.declared ?? [])])];
      manifest.tools.probe.sandbox.network = grants.probe;
      manifest.tools.other.sandbox.network = grants.other ?? [];
    },
    name,
  ).manifestPath;
}

/** A loopback server whose `/hold…` requests get their head at once and their body once released, `/big` sends `bigBytes`, and every other path says its name. */
export interface HoldingServer extends CountingServer {
  /** Requests now held, waiting. */
  held: number;
  /** Answers every held request (and any that arrive later until `hold()`). */
  release(): void;
  /** Holds `/hold…` requests again. */
  hold(): void;
}

/** Starts a {@link HoldingServer} on 127.0.0.1; closed when `t` ends (held requests answered first). */
export async function holdingServer(t: Test, name: string, bigBytes = 1 << 20): Promise<HoldingServer> {
  let waiting: http.ServerResponse[] = [];
  let released = false;
  const answer = (response: http.ServerResponse) => response.end(`${name} released`);
  const server = (await loopbackHttp(t, name, (request, response) => {
    if (request.url?.startsWith('/hold')) {
      if (released) return answer(response);
      response.writeHead(200, { 'Content-Type': 'text/plain' }).flushHeaders();
      waiting.push(response);
      response.once('close', () => (waiting = waiting.filter((r) => r !== response)));
      return;
    }
    if (request.url === '/big') return response.end(Buffer.alloc(bigBytes, 0x61));
    response.end(name);
  })) as HoldingServer;
  Object.defineProperty(server, 'held', { get: () => waiting.length });
  server.release = () => {
    released = true;
    for (const response of waiting.splice(0)) answer(response);
  };
  server.hold = () => {
    released = false;
  };
  // Whichever teardown runs first, no held request outlives the test.
  t.teardown(() => server.release());
  return server;
}
