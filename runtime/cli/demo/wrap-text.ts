/**
 * Breaks `text` into lines of at most `width` characters, at spaces only. A word longer
 * than `width` (a path, a host, a signature) gets a line of its own and is never split or
 * shortened, so it can still be searched for and copied whole.
 *
 * @param text one paragraph; runs of whitespace count as one space
 * @param width the widest line wanted (at least 1)
 * @returns the lines, without trailing spaces; `['']` for empty text
 * @example
 * wrapText('Requires read access to "/etc/passwd"', 20); // ['Requires read access', 'to "/etc/passwd"']
 */
export function wrapText(text: string, width: number): string[] {
  const words = text.split(/\s+/).filter((word) => word.length > 0);
  const lines: string[] = [];
  let current = '';
  for (const word of words) {
    if (current === '') current = word;
    else if (current.length + 1 + word.length <= width) current += ` ${word}`;
    else {
      lines.push(current);
      current = word;
    }
  }
  lines.push(current);
  return lines;
}

/**
 * Wraps `text` to `width` columns with `indent` before every line, and `hanging` more
 * spaces before every line after the first.
 */
export function wrapIndented(text: string, width: number, indent: number, hanging = 0): string[] {
  const first = wrapText(text, Math.max(1, width - indent));
  const [head = '', ...rest] = first;
  const tail = wrapText(rest.join(' '), Math.max(1, width - indent - hanging));
  return [
    `${' '.repeat(indent)}${head}`,
    ...(rest.length > 0 ? tail.map((line) => `${' '.repeat(indent + hanging)}${line}`) : []),
  ];
}
