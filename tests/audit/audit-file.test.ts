import { readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import type { AuditRecord } from '../../runtime/index.ts';
import { auditOf } from '../helpers/audit-log.ts';
import { plantPlugin } from '../helpers/fixtures.ts';
import { testRuntime } from '../helpers/test-runtime.ts';
import { GENEROUS_MS } from '../helpers/wait-for.ts';

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const DOCUMENTED_TYPES = new Set([
  'grant_decision',
  'grant_refused',
  'launch',
  'handshake_ok',
  'handshake_failed',
  'capability_denied',
  'protocol_violation',
  'kill',
  'exit',
  'shutdown',
  'state',
]);
/** Types that belong to one process, so they must name its tool and launch. */
const PER_LAUNCH = ['launch', 'handshake_ok', 'capability_denied', 'protocol_violation', 'kill', 'exit', 'shutdown'];

t.test('after a run with a rogue plugin, the audit file holds one well-formed record per decision', async (t) => {
  const root = realpathSync(t.testdir());
  const auditFile = path.join(root, 'logs', 'audit.jsonl');
  const forger = plantPlugin(root, 'forger');
  const { runtime, audit } = testRuntime(t, {
    auditFile,
    secrets: { get: () => 'unused' },
    policy: { plugins: { 'cap-forger': { 'access-secret': ['API_KEY', 'SECOND_KEY', 'DB_PASSWORD'] } } },
  });
  const plugin = await runtime.load(forger.manifestPath);
  const call = (args: Record<string, unknown>) => plugin.call('holder', args, { timeoutMs: GENEROUS_MS }) as Promise<{ launchId: string; code?: string }>;

  const forged = await call({ action: 'ask', name: 'API_KEY', token: 'forged' });
  t.equal(forged.code, 'capability_denied');
  await t.rejects(call({ action: 'violate' }), { code: 'protocol_violation' });
  const second = await call({ action: 'whoami' });
  t.not(second.launchId, forged.launchId, 'a new launch after the violation');
  await runtime.close();

  const lines = readFileSync(auditFile, 'utf8').split('\n');
  t.equal(lines.pop(), '', 'the file ends with a newline');
  const records = lines.map((line, i) => {
    try {
      return JSON.parse(line) as AuditRecord;
    } catch {
      t.fail(`line ${i + 1} is not JSON: ${line}`);
      return null;
    }
  });
  t.ok(records.every(Boolean), 'every line parses');
  const parsed = records as AuditRecord[];
  t.same(parsed, JSON.parse(JSON.stringify(audit.records)), 'the file holds exactly what the API sink received, in order');

  for (const record of parsed) {
    const label = `${record.type} ${record.id}`;
    t.match(record.id, ULID, `${label}: id is a ULID`);
    t.ok(!Number.isNaN(Date.parse(record.time)) && record.time === new Date(record.time).toISOString(), `${label}: time is ISO 8601`);
    t.ok(DOCUMENTED_TYPES.has(record.type), `${label}: a documented type`);
    t.equal(record.plugin, 'cap-forger', `${label}: names the plugin`);
    if (PER_LAUNCH.includes(record.type)) {
      t.match(record.launchId, ULID, `${label}: names its launch`);
      t.equal(record.tool, 'holder', `${label}: names its tool`);
    }
  }
  t.equal(new Set(parsed.map((r) => r.id)).size, parsed.length, 'ids are unique');
  t.same([...parsed.map((r) => r.time)].sort(), parsed.map((r) => r.time), 'records are in time order');

  const types = new Set(parsed.map((r) => r.type));
  for (const type of ['grant_decision', 'launch', 'handshake_ok', 'capability_denied', 'protocol_violation', 'kill', 'exit', 'shutdown']) {
    t.ok(types.has(type as AuditRecord['type']), `a ${type} record`);
  }

  // The records tell the story of each launch.
  const refused = auditOf(parsed, 'grant_decision').find((r) => r['scope'] === 'UNGRANTED');
  t.match(refused, { granted: false, reason: 'not in policy plugins.cap-forger.access-secret' }, 'a refusal at load names its rule');
  const first = auditOf(parsed, 'launch').find((r) => r.launchId === forged.launchId);
  t.match(first, { argv: Array, grants: { secrets: ['API_KEY', 'SECOND_KEY'] } }, 'the launch record holds argv and grants');
  t.ok((first!['argv'] as string[]).includes('--deny-net'));
  t.match(auditOf(parsed, 'capability_denied').find((r) => r.launchId === forged.launchId), { capability: 'access-secret', scope: 'API_KEY' });
  const violation = auditOf(parsed, 'protocol_violation')[0]!;
  t.equal(violation.launchId, forged.launchId);
  t.match(violation.reason, /unknown_type/);
  t.ok(auditOf(parsed, 'kill').some((r) => r.launchId === forged.launchId), 'the violating launch was killed');
  t.ok(auditOf(parsed, 'exit').some((r) => r.launchId === forged.launchId), 'and its exit recorded');
  t.ok(auditOf(parsed, 'shutdown').some((r) => r.launchId === second.launchId), 'the second launch was shut down at close');

  t.equal(statSync(auditFile).mode & 0o777, 0o600, 'the audit file is readable by its owner only');
});
