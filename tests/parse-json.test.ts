import t from 'tap';
import { JsonSyntaxError, parseJson } from '../runtime/parse-json.ts';

/** The syntax error parseJson throws for `text`. */
function syntaxError(text: string): JsonSyntaxError {
  try {
    parseJson(text);
  } catch (error) {
    if (error instanceof JsonSyntaxError) return error;
    throw error;
  }
  throw new Error(`parsed: ${text}`);
}

t.test('parseJson returns what JSON.parse returns for valid JSON', async (t) => {
  for (const text of ['{"a":[1,-2.5e3,true,null,{"b":"\\u00e9\\n"}]}', '  42 ', '"x"', '[]', '{}']) {
    t.same(parseJson(text), JSON.parse(text), text);
  }
});

t.test('parseJson places each kind of syntax error by line and column, with a reason', async (t) => {
  const cases: [string, number, number, RegExp][] = [
    ['{"a":}', 1, 6, /expected a value, found '}'/],
    ['{\n  "a": 1,\n}', 2, 9, /trailing comma/],
    ['[1,\n 2,\n 3', 3, 3, /expected ',' or ']'/],
    ['{"a" 1}', 1, 6, /expected ':'/],
    ['{a: 1}', 1, 2, /double-quoted property name/],
    ["{'a': 1}", 1, 2, /double quotes/],
    ['{\n  // note\n}', 2, 3, /comment/],
    ['{"a": tru}', 1, 7, /unexpected 'tru'/],
    ['{"a": 01}', 1, 7, /leading zero/],
    ['{"a": "\\q"}', 1, 8, /bad escape/],
    ['{"a": "b\nc"}', 1, 9, /U\+000A inside a string/],
    ['{"a": "b', 1, 7, /never ends/],
    ['{} x', 1, 4, /after the end of the JSON value/],
    ['', 1, 1, /end of the file/],
    ['\ufeff{}', 1, 1, /byte-order mark/],
    ['{\n  "a": 1\n  "b": 2\n}', 2, 9, /comma missing at the end of this line/],
  ];
  for (const [text, line, column, reason] of cases) {
    const error = syntaxError(text);
    t.same([error.line, error.column], [line, column], JSON.stringify(text));
    t.match(error.reason, reason, JSON.stringify(text));
    t.equal(error.message, `line ${line}, column ${column}: ${error.reason}`);
  }
});

t.test('the excerpt shows the offending line with a caret under the column', async (t) => {
  const error = syntaxError('{\n\t"a": 1,,\n}');
  t.same(error.excerpt, ['2 |  "a": 1,,', '  |         ^']);
});

t.test('parseJson does not overflow the stack on deep nesting', async (t) => {
  const error = syntaxError('['.repeat(200_000));
  t.equal(error.line, 1);
  t.equal(error.column, 200_001);
  t.ok(error.excerpt[0].length < 120);
});
