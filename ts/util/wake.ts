/**
 * A loop's wait: `wait()` ends when `wake()` is called or `signal` aborts, whichever comes first.
 * One abort listener serves every wait of the loop (the signal's owner aborts it when the loop ends,
 * which removes it): adding and removing a listener per wait cost a crawl tens of milliseconds,
 * since the same signal carries a listener for each request in flight.
 */
export class Waker {
  readonly #signal: AbortSignal;
  #resolve: (() => void) | undefined;

  constructor(signal: AbortSignal) {
    this.#signal = signal;
    signal.addEventListener('abort', () => this.wake(), { once: true });
  }

  wait(): Promise<void> {
    if (this.#signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  wake(): void {
    const resolve = this.#resolve;
    this.#resolve = undefined;
    resolve?.();
  }
}
