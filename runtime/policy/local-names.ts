import { isIP } from 'node:net';
import os from 'node:os';
import { readRegularFile } from '../manifest/read-regular-file.ts';

/** The hosts file the resolver reads before any DNS. */
export const HOSTS_FILE = '/etc/hosts';

/** Far more than any hosts file holds; a larger one is not read (and nothing is refused by it). */
const MAX_HOSTS_BYTES = 4 * 1024 * 1024;

/**
 * Every name in hosts-file text with the first address it maps to (the resolver takes the
 * first match). Names are lower-cased; comments and malformed lines are skipped. Pure.
 */
export function parseHostsFile(text: string): Map<string, string> {
  const names = new Map<string, string>();
  for (const line of text.split('\n')) {
    const [address, ...aliases] = line.replace(/#.*/, '').trim().split(/\s+/);
    if (!address || isIP(address.replace(/%.*$/, '')) === 0) continue;
    for (const alias of aliases) {
      const name = alias.toLowerCase().replace(/\.$/, '');
      if (name && !names.has(name)) names.set(name, address.replace(/%.*$/, ''));
    }
  }
  return names;
}

/** What this machine resolves by itself: its hosts file and its own names and addresses. */
export interface LocalNames {
  /** Names the hosts file maps, with their addresses. */
  hosts: ReadonlyMap<string, string>;
  /** The machine's own host name, full and short, lower-cased. */
  ownNames: ReadonlySet<string>;
  /** The addresses of the machine's own interfaces. */
  ownAddresses: ReadonlySet<string>;
}

/**
 * Reads them now (the hosts file non-blocking and size-capped). A hosts file that cannot
 * be read maps nothing: the names it would have held are then judged as written.
 */
export function readLocalNames(hostsFile = HOSTS_FILE): LocalNames {
  let hosts = new Map<string, string>();
  try {
    hosts = parseHostsFile(readRegularFile(hostsFile, MAX_HOSTS_BYTES));
  } catch {
    // no hosts file, or not one the host will read: nothing mapped
  }
  const full = os.hostname().toLowerCase();
  const ownNames = new Set([full, full.split('.')[0]!].filter(Boolean));
  return { hosts, ownNames, ownAddresses: readOwnAddresses() };
}

/** The addresses of this machine's interfaces, now (zone ids dropped). */
export function readOwnAddresses(): Set<string> {
  return new Set(
    Object.values(os.networkInterfaces())
      .flat()
      .map((entry) => entry?.address.replace(/%.*$/, ''))
      .filter((address): address is string => Boolean(address)),
  );
}
