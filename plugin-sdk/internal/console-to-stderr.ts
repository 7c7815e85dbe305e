/**
 * stdout is the channel, so nothing else may write there: every console method that
 * Deno sends to stdout is pointed at stderr before plugin code runs.
 */
export function routeConsoleToStderr(): void {
  const toStderr = console.error.bind(console);
  for (const method of ['log', 'info', 'debug', 'dir', 'dirxml', 'table'] as const) {
    (console as unknown as Record<string, unknown>)[method] = toStderr;
  }
}
