/**
 * A wait that ends when `wake()` is called or `signal` aborts, whichever comes first; the abort
 * listener is removed with it, so a loop that waits many times leaves nothing behind.
 */
export function wakeable(signal: AbortSignal): { wait: Promise<void>; wake: () => void } {
  let wake: () => void = () => {};
  const wait = new Promise<void>((resolve) => {
    const onAbort = () => resolve();
    wake = () => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    };
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  return { wait, wake };
}
