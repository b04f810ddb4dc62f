/** Long-running commands stop on Ctrl-C (SIGINT) or SIGTERM: resolves with the signal's name. */
export function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}
