/** Where a JSON text first breaks the grammar, and what was expected there. */
export interface JsonErrorLocation {
  /** Offset into the text, in UTF-16 code units. */
  offset: number;
  reason: string;
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const LITERAL = /true|false|null/y;
const WORD = /[A-Za-z_$][\w$]*/y;
const HEX4 = /[0-9A-Fa-f]{4}/y;

function shown(char: string | undefined): string {
  if (char === undefined) return 'the end of the file';
  const code = char.charCodeAt(0);
  return code < 0x20 || (code >= 0x7f && code <= 0x9f) ? `character U+${code.toString(16).padStart(4, '0').toUpperCase()}` : `'${char}'`;
}

function matchAt(pattern: RegExp, text: string, offset: number): string | undefined {
  pattern.lastIndex = offset;
  return pattern.exec(text)?.[0];
}

/** Why a value cannot start at `offset`, with a hint for the mistakes people make most. */
function noValue(text: string, offset: number): JsonErrorLocation {
  const char = text[offset];
  if (char === '\ufeff') return { offset, reason: 'a byte-order mark; save the file as UTF-8 without one' };
  if (char === '/') return { offset, reason: 'a comment; JSON has none' };
  if (char === "'") return { offset, reason: "a single quote; JSON strings take double quotes" };
  const word = matchAt(WORD, text, offset);
  if (word !== undefined) return { offset, reason: `unexpected '${word}', expected a value (true, false, null, a number, a "string", an object or an array)` };
  return { offset, reason: `expected a value, found ${shown(char)}` };
}

/** Scans a string starting at its opening quote; returns the offset after it, or the error. */
function scanString(text: string, start: number): number | JsonErrorLocation {
  let i = start + 1;
  for (;;) {
    const char = text[i];
    if (char === undefined) return { offset: start, reason: 'a string that never ends (no closing ")' };
    if (char === '"') return i + 1;
    if (char.charCodeAt(0) < 0x20) return { offset: i, reason: `${shown(char)} inside a string; write it as an escape such as \\n` };
    if (char === '\\') {
      const next = text[i + 1];
      if (next !== undefined && '"\\/bfnrt'.includes(next)) i += 2;
      else if (next === 'u' && matchAt(HEX4, text, i + 2) !== undefined) i += 6;
      else return { offset: i, reason: `a bad escape '\\${next ?? ''}' in a string` };
    } else i += 1;
  }
}

/**
 * Finds the first place `text` is not JSON (RFC 8259), without recursion so no nesting
 * depth can overflow the stack. Only called once `JSON.parse` has refused the text, to
 * say where and why in words a person can act on.
 *
 * @returns the offset and reason, or undefined when the scanner finds the text valid
 */
export function locateJsonError(text: string): JsonErrorLocation | undefined {
  const closers: string[] = [];
  let i = 0;
  const skipSpace = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i += 1;
  };
  /** A property name and its colon; leaves `i` at the value. */
  const key = (): JsonErrorLocation | undefined => {
    if (text[i] !== '"') {
      return text[i] === "'" || text[i] === '/' ? noValue(text, i) : { offset: i, reason: `expected a double-quoted property name, found ${shown(text[i])}` };
    }
    const end = scanString(text, i);
    if (typeof end !== 'number') return end;
    i = end;
    skipSpace();
    if (text[i] !== ':') return { offset: i, reason: `expected ':' after the property name, found ${shown(text[i])}` };
    i += 1;
    return undefined;
  };

  skipSpace();
  for (;;) {
    // A value starts at i.
    skipSpace();
    const char = text[i];
    if (char === '{' || char === '[') {
      const closer = char === '{' ? '}' : ']';
      i += 1;
      skipSpace();
      if (text[i] === closer) i += 1;
      else {
        closers.push(closer);
        if (closer === '}') {
          const bad = key();
          if (bad) return bad;
        }
        continue;
      }
    } else if (char === '"') {
      const end = scanString(text, i);
      if (typeof end !== 'number') return end;
      i = end;
    } else {
      const token = matchAt(LITERAL, text, i) ?? matchAt(NUMBER, text, i);
      if (token !== undefined && /^-?0$/.test(token) && /\d/.test(text[i + token.length] ?? '')) {
        return { offset: i, reason: 'a number with a leading zero; JSON allows none' };
      }
      if (token === undefined || /[\w$]/.test(text[i + token.length] ?? '')) return noValue(text, i);
      i += token.length;
    }
    // After a value: a comma, a closer, or (at the top) the end.
    for (;;) {
      const valueEnd = i;
      skipSpace();
      const closer = closers.at(-1);
      if (closer === undefined) return i < text.length ? { offset: i, reason: `unexpected ${shown(text[i])} after the end of the JSON value` } : undefined;
      if (text[i] === closer) {
        closers.pop();
        i += 1;
        continue;
      }
      if (text[i] !== ',') {
        const what = closer === '}' ? "after a property value" : 'after an array item';
        if (i < text.length && text.slice(valueEnd, i).includes('\n')) {
          // The next item on a later line: the comma is missing where the line ends, so point there.
          return { offset: valueEnd, reason: `expected ',' or '${closer}' ${what}: a comma missing at the end of this line?` };
        }
        return { offset: i, reason: `expected ',' or '${closer}' ${what}, found ${shown(text[i])}` };
      }
      const comma = i;
      i += 1;
      skipSpace();
      if (text[i] === closer) return { offset: comma, reason: `a trailing comma before '${closer}'; JSON allows none` };
      if (closer === '}') {
        const bad = key();
        if (bad) return bad;
      }
      break;
    }
  }
}
