import { locateJsonError } from './locate-json-error.ts';
import { printableText } from './printable-text.ts';

/** Characters of the offending line shown around the column. */
const EXCERPT_WIDTH = 80;

/** A JSON syntax error placed by line and column, with the line it is on and a caret under it. */
export class JsonSyntaxError extends Error {
  override readonly name = 'JsonSyntaxError';

  constructor(
    /** Why the text is not JSON, in words. */
    readonly reason: string,
    /** 1-based line. */
    readonly line: number,
    /** 1-based column, in UTF-16 code units. */
    readonly column: number,
    /** The line, cut to a sane width with control characters escaped, then a caret under the column. */
    readonly excerpt: readonly [string, string],
  ) {
    super(`line ${line}, column ${column}: ${reason}`);
  }
}

/** Controls, and the invisible or reordering characters (byte-order mark, bidi overrides) that make a line lie. */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/;

/** One character as it may be printed: a tab as a space (keeps the caret aligned), other controls escaped. */
function printable(char: string): string {
  const code = char.charCodeAt(0);
  if (char === '\t') return ' ';
  if (UNPRINTABLE.test(char)) {
    return `\\u${code.toString(16).padStart(4, '0')}`;
  }
  return char;
}

function render(text: string): string {
  return Array.from(text, printable).join('');
}

function excerpt(text: string, line: number, lineStart: number, offset: number): [string, string] {
  const newline = text.indexOf('\n', lineStart);
  const full = text.slice(lineStart, newline === -1 ? text.length : newline).replace(/\r$/, '');
  const at = offset - lineStart;
  const start = full.length > EXCERPT_WIDTH ? Math.max(0, Math.min(at - EXCERPT_WIDTH / 2, full.length - EXCERPT_WIDTH)) : 0;
  const end = Math.min(full.length, start + EXCERPT_WIDTH);
  const head = start > 0 ? '…' : '';
  const tail = end < full.length ? '…' : '';
  const gutter = `${line} | `;
  const before = `${gutter}${head}${render(full.slice(start, at))}`;
  return [`${gutter}${head}${render(full.slice(start, end))}${tail}`, `${' '.repeat(gutter.length - 2)}| ${' '.repeat(before.length - gutter.length)}^`];
}

/**
 * `JSON.parse`, with a syntax error given as line and column, the offending line and a
 * caret instead of V8's byte offset (or, for some errors, no place at all).
 *
 * @throws JsonSyntaxError when `text` is not JSON
 * @example
 * parseJson('{\n  "a": 1,\n}'); // JsonSyntaxError: line 2, column 9: a trailing comma before '}'; JSON allows none
 */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    const location = locateJsonError(text) ?? { offset: text.length, reason: (cause as Error).message };
    const offset = Math.min(location.offset, text.length);
    const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
    const line = text.slice(0, lineStart).split('\n').length;
    const column = offset - lineStart + 1;
    throw new JsonSyntaxError(render(location.reason), line, column, excerpt(text, line, lineStart, offset));
  }
}

/**
 * An issue message for a file that could not be read as JSON: a syntax error by line and
 * column with its excerpt on indented lines below, anything else (a read error) after `prefix`.
 */
export function jsonErrorMessage(error: unknown, prefix: string): string {
  if (error instanceof JsonSyntaxError) {
    return [`not valid JSON at line ${error.line}, column ${error.column}: ${error.reason}`, ...error.excerpt.map((line) => `    ${line}`)].join('\n');
  }
  return `${prefix}: ${printableText((error as Error).message)}`;
}
