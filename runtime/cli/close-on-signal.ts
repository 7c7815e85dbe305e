/**
 * Runs `cleanup` (closing the runtime: shutdown → ack → SIGKILL) on SIGINT or SIGTERM,
 * then exits 130, so an interrupted command leaves no plugin process or server behind.
 * Returns a function that removes the handlers.
 */
export function closeOnSignal(cleanup: () => Promise<unknown>): () => void {
  const onSignal = () => {
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
