import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { createInputSchemaCompiler } from '../../runtime/manifest/input-validator.ts';
import { chainKey } from '../../runtime/manifest/validator-cache.ts';

const SCHEMA = {
  type: 'object',
  properties: { name: { type: 'string', pattern: '^[a-z]+$', maxLength: 8 }, count: { type: 'integer' } },
  required: ['name'],
  additionalProperties: false,
};
const ARGS: unknown[] = [{ name: 'abc' }, { name: 'ABC' }, { name: 'abcdefghij' }, { count: 1 }, { name: 'a', extra: true }, 'text'];

t.test('a cached validator judges arguments exactly as a freshly compiled one', async (t) => {
  const dir = t.testdir({});
  const fresh = createInputSchemaCompiler(dir)(SCHEMA);
  t.equal(readdirSync(dir).length, 1, 'the compiled code was stored');
  const cached = createInputSchemaCompiler(dir)(SCHEMA);
  const uncached = createInputSchemaCompiler()(SCHEMA);
  for (const args of ARGS) {
    t.same(cached(args), fresh(args), `same issues for ${JSON.stringify(args)}`);
    t.same(cached(args), uncached(args));
  }
  t.match(cached({ name: 'ABC' }), [{ path: '/name', message: /must match pattern/ }], 'patterns still run (in RE2) from the cache');
});

t.test('stored code that asks for any other module is not run: the schema is compiled afresh and the entry rewritten', async (t) => {
  const dir = t.testdir({});
  const key = chainKey('', JSON.stringify(SCHEMA));
  const marker = path.join(dir, 'ran');
  const planted = `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'x'); module.exports = () => true;`;
  writeFileSync(path.join(dir, `${key}.cjs`), planted);
  const validate = createInputSchemaCompiler(dir)(SCHEMA);
  t.same(readdirSync(dir).filter((name) => name === 'ran'), [], 'the planted code never reached node:fs');
  t.match(validate({ name: 'ABC' }), [{ path: '/name' }], 'the validator is a real one');
  t.not(readFileSync(path.join(dir, `${key}.cjs`), 'utf8'), planted, 'the entry was rewritten');
});
