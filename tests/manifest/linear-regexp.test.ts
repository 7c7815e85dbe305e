import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import t, { type Test } from 'tap';
import { createInputSchemaCompiler } from '../../runtime/manifest/input-validator.ts';
import { MAX_PATTERN_PROGRAM_SIZE, MAX_PATTERN_WORK_PER_CALL } from '../../runtime/manifest/linear-regexp.ts';
import { loadManifest } from '../../runtime/manifest/load-manifest.ts';
import type { SchemaIssue } from '../../runtime/schema-issues.ts';
import { issuesOf, runBounded } from '../helpers/schema-issues.ts';

const REDOS = '^(a+)+$';

/** Native RegExp sources V8 runs (test or exec) while `run` runs: what a backtracking engine would see. */
function nativeSourcesRun(run: () => void): string[] {
  const seen: string[] = [];
  const { test, exec } = RegExp.prototype;
  RegExp.prototype.test = function (this: RegExp, text: string) {
    seen.push(this.source);
    return test.call(this, text);
  };
  RegExp.prototype.exec = function (this: RegExp, text: string) {
    seen.push(this.source);
    return exec.call(this, text);
  };
  try {
    run();
  } finally {
    RegExp.prototype.test = test;
    RegExp.prototype.exec = exec;
  }
  return seen;
}

function manifestIssues(t: Test, tools: Record<string, object>): SchemaIssue[] {
  const dir = t.testdir({
    'manifest.json': JSON.stringify({
      name: 'fixture',
      version: '1.0.0',
      entry: 'plugin.ts',
      tools: Object.fromEntries(Object.entries(tools).map(([name, input]) => [name, { description: name, input }])),
    }),
    'plugin.ts': '',
  });
  return issuesOf(() => loadManifest(path.join(dir, 'manifest.json')));
}

const schema = {
  type: 'object',
  properties: { name: { type: 'string', pattern: REDOS } },
  patternProperties: { '^x-(b+)+$': { type: 'integer' } },
};

t.test('positive control: ajv by default runs a plugin pattern in V8\'s backtracking RegExp', async (t) => {
  const validate = new Ajv2020({ strict: false }).compile(schema);
  const seen = nativeSourcesRun(() => validate({ name: 'aaa', 'x-bbb': 1 }));
  t.ok(seen.includes(REDOS), 'pattern ran natively');
  t.ok(seen.includes('^x-(b+)+$'), 'patternProperties ran natively');
});

t.test('positive control: V8 backtracks on ^(a+)+$ with a short string that almost matches (a child process never finishes)', async (t) => {
  const child = runBounded(`/${REDOS}/.test('a'.repeat(40) + '!'); console.log('finished')`, 5_000);
  t.equal(child.signal, 'SIGKILL', 'killed at the deadline');
  t.notMatch(child.stdout, /finished/);
});

t.test('input validators run pattern and patternProperties in the linear-time engine, never in V8\'s RegExp', async (t) => {
  const validate = createInputSchemaCompiler()(schema);
  let issues: unknown;
  const seen = nativeSourcesRun(() => {
    issues = validate({ name: 'aaaa', 'x-bbbb': 'not an integer' });
  });
  t.notOk(seen.includes(REDOS), 'pattern never ran natively');
  t.notOk(seen.includes('^x-(b+)+$'), 'patternProperties never ran natively');
  t.match(issues, [{ path: '/x-bbbb' }], 'the patternProperties pattern matched, so its subschema applied');
  t.same(validate({ name: 'aaaa', 'x-c': 'not checked' }), [], 'a key the pattern does not match is not checked');
});

t.test('^(a+)+$ against a long string that almost matches returns (no match) instead of freezing the host', async (t) => {
  const validate = createInputSchemaCompiler()(schema);
  t.match(validate({ name: `${'a'.repeat(50_000)}!` }), [{ path: '/name', message: /must match pattern/ }]);
  t.same(validate({ name: 'a'.repeat(50_000) }), []);
  t.match(validate({ [`x-${'b'.repeat(50_000)}!`]: 'x' }), [], 'a key that almost matches is simply not matched');
});

t.test('every pattern of a schema is enforced, each its own', async (t) => {
  // ajv keys compiled patterns by their text: two patterns sharing one key would check the same thing.
  const validate = createInputSchemaCompiler()({
    type: 'object',
    properties: { a: { type: 'string', pattern: '^a+$' }, b: { type: 'string', pattern: '^b+$' } },
  });
  t.same(validate({ a: 'aa', b: 'bb' }), []);
  t.match(validate({ a: 'aa', b: 'aa' }), [{ path: '/b' }]);
  t.match(validate({ a: 'bb', b: 'bb' }), [{ path: '/a' }]);
});

t.test('ECMA-262 spellings RE2 writes differently still work', async (t) => {
  const validate = createInputSchemaCompiler()({
    type: 'object',
    properties: {
      letter: { type: 'string', pattern: '^\\u0041\\u{1F600}$' },
      named: { type: 'string', pattern: '^(?<word>\\w+)/\\d{3}$' },
    },
  });
  t.same(validate({ letter: 'A😀', named: 'abc/123' }), []);
  t.match(validate({ letter: 'B😀', named: 'abc/12' }), [{}]);
});

for (const [label, pattern] of [
  ['a lookahead', '^(?=a)a$'],
  ['a lookbehind', '(?<=a)b'],
  ['a numbered backreference', '^(a)\\1$'],
  ['a named backreference', '^(?<x>a)\\k<x>$'],
  ['an invalid ECMA-262 pattern', '^(a$'],
  ['a repeat RE2 caps', '^a{0,5000}$'],
] as const) {
  t.test(`a pattern with ${label} is manifest_invalid, naming tools.<tool>.input`, async (t) => {
    const issues = manifestIssues(t, { x: { type: 'string', pattern } });
    t.match(issues, [{ path: 'tools.x.input', message: /pattern/ }]);
  });
}

t.test('a patternProperties key RE2 cannot run is manifest_invalid too', async (t) => {
  t.match(manifestIssues(t, { y: { type: 'object', patternProperties: { '(?!x)': {} } } }), [{ path: 'tools.y.input' }]);
});

t.test('a pattern over the program-size limit is refused, naming the limit', async (t) => {
  const issues = manifestIssues(t, { x: { type: 'string', pattern: '[a-z]{1000}[0-9]{1000}' } });
  t.match(issues, [{ path: 'tools.x.input', message: new RegExp(`over the limit of ${MAX_PATTERN_PROGRAM_SIZE}`) }]);
});

t.test('the patterns of one manifest share a program budget; past it the load stops trying', async (t) => {
  const tools = Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`t${i}`, { type: 'string', pattern: `[a-z]{900}${i}` }]));
  const issues = manifestIssues(t, tools);
  t.equal(issues.length, 1, 'one issue, not one per remaining tool');
  t.match(issues, [{ path: /^tools\.t\d+\.input$/, message: /RE2 instructions in all/ }]);
});

t.test('a call whose strings would cost more matching work than allowed gets an issue, not a throw', async (t) => {
  const validate = createInputSchemaCompiler()({ type: 'string', pattern: '^[a-z]{900}' });
  const long = 'a'.repeat(Math.ceil(MAX_PATTERN_WORK_PER_CALL / 900));
  t.match(validate(long), [{ path: '/', message: /patterns would take over/ }]);
  t.same(validate('a'.repeat(1000)), [], 'the budget is per call: a later, small call is checked');
});
