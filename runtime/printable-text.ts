/** C0 and C1 control characters (tab excepted) and DEL: what lets text steer a terminal. */
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g;

/**
 * Plugin-supplied text (stderr lines, error messages) made safe to print: every control
 * character becomes a visible `\u001b`-style escape, so a plugin cannot move the operator's
 * cursor, rewrite earlier lines, or forge a log line with an embedded newline.
 */
export function printableText(text: string): string {
  return text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
