import type * as v from 'valibot';

/** What a schema node may hold that leads to the schema of a child: object entries, record and array items, wrapped schemas. */
interface SchemaNode {
  type?: string;
  entries?: Record<string, SchemaNode>;
  value?: SchemaNode;
  item?: SchemaNode;
  wrapped?: SchemaNode;
}

function unwrap(node: SchemaNode | undefined): SchemaNode | undefined {
  let current = node;
  // optional, nullable, nullish, exact_optional, non_optional … all keep their inner schema in `wrapped`.
  while (current?.wrapped !== undefined) current = current.wrapped;
  return current;
}

/** The schema that checks the value at `path` (valibot issue path items), or undefined when the walk is unsure. */
function schemaAt(root: v.GenericSchema, path: readonly { key: unknown }[]): SchemaNode | undefined {
  let node = unwrap(root as SchemaNode);
  for (const { key } of path) {
    if (node === undefined) return undefined;
    if (node.entries !== undefined) node = Object.hasOwn(node.entries, String(key)) ? node.entries[String(key)] : undefined;
    else if (node.type === 'record') node = node.value;
    else if (node.type === 'array') node = node.item;
    else return undefined;
    node = unwrap(node);
  }
  return node;
}

/**
 * Edit distance counting a swap of two neighbours as one edit (optimal string alignment),
 * for "did you mean". Keys are short, so the quadratic table costs nothing; a key longer
 * than any valid one by far is not compared at all.
 */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [Array.from({ length: b.length + 1 }, (_, j) => j)];
  for (let i = 1; i <= a.length; i += 1) {
    const row = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, row[j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      row.push(best);
    }
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
}

/**
 * The valid key closest to `key`, when close enough to be the likely intent: within a
 * third of its length in edits, or one extending it (`access-network-all` for
 * `access-network`).
 */
export function closestKey(key: string, validKeys: readonly string[]): string | undefined {
  let best: { key: string; distance: number } | undefined;
  if (key.length > 256) return undefined;
  for (const candidate of validKeys) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    const close = distance <= Math.max(1, Math.floor(candidate.length / 3)) || key.startsWith(candidate) || candidate.startsWith(key);
    if (close && (best === undefined || distance < best.distance)) best = { key: candidate, distance };
  }
  return best?.key;
}

/** One unknown key of a strict object: where its object is, the key, and how to fix it. */
export interface UnknownKey {
  /** The path of the object holding the key (valibot path items' keys). */
  objectPath: string[];
  key: string;
  message: string;
}

function unknownKeyText(key: string, validKeys: readonly string[] | undefined): string {
  if (validKeys === undefined) return `unknown key ${JSON.stringify(key)}`;
  const guess = closestKey(key, validKeys);
  const hint = guess === undefined ? '.' : `: did you mean "${guess}"?`;
  return `unknown key ${JSON.stringify(key)}${hint} Valid keys here: ${validKeys.join(', ')}`;
}

/**
 * For an unknown key valibot refused in a strict object, every unknown key of that object
 * (valibot stops at the first), each with the message that says how to fix it: the keys
 * that object takes, read from the schema itself, and the closest of them.
 *
 * @param root the schema the input was checked against
 * @param issue the `strict_object` issue (its last path item is the unknown key, its input the object)
 * @returns one entry per unknown key in the object's own order, or undefined when the issue is not an unknown key
 */
export function unknownKeys(root: v.GenericSchema, issue: v.BaseIssue<unknown>): UnknownKey[] | undefined {
  const path = issue.path;
  if (issue.type !== 'strict_object' || issue.expected !== 'never' || path === undefined || path.length === 0) return undefined;
  const last = path[path.length - 1]!;
  const objectPath = path.slice(0, -1).map((item) => String(item.key));
  const entries = schemaAt(root, path.slice(0, -1))?.entries;
  const validKeys = entries === undefined ? undefined : Object.keys(entries);
  const holder = last.input;
  const keys =
    validKeys !== undefined && holder !== null && typeof holder === 'object' && !Array.isArray(holder)
      ? Object.keys(holder).filter((key) => !validKeys.includes(key))
      : [String(last.key)];
  return keys.map((key) => ({ objectPath, key, message: unknownKeyText(key, validKeys) }));
}
