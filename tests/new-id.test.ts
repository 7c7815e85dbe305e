import t from 'tap';
import { decodeTime, isValid } from 'ulid';
import { newId } from '../runtime/new-id.ts';

t.test('newId mints valid ULIDs stamped with the current time', async (t) => {
  const before = Date.now();
  const id = newId();
  const after = Date.now();
  t.ok(isValid(id), `${id} is a ULID`);
  t.ok(decodeTime(id) >= before && decodeTime(id) <= after, 'its timestamp is now');
});

t.test('newId never repeats, across many refills of its random pool', async (t) => {
  // 16 random bytes per id: 20,000 ids draw from the pool ~80 times over.
  const ids = Array.from({ length: 20_000 }, () => newId());
  t.equal(new Set(ids).size, ids.length, 'all distinct');
  const randomParts = new Set(ids.map((id) => id.slice(10)));
  t.equal(randomParts.size, ids.length, 'the random part alone is distinct: it is drawn, not incremented');
});
