/**
 * Typed events whose listeners run behind the library's safe boundary (util/safe.ts): a listener
 * that throws, or an async one that rejects, is counted and logged; the other listeners still run,
 * and the code that emitted never sees the error. Protocol state must never depend on user code.
 */
import { EventEmitter } from 'node:events';
import { callbackFailed, type FailureCounter } from './safe.js';

// biome-ignore lint/suspicious/noExplicitAny: listener argument lists vary per event
type Listener = (...args: any[]) => void;

export class TypedEmitter<Events extends { [K in keyof Events]: Listener }> {
  readonly #emitter = new EventEmitter();
  #failures: FailureCounter | undefined;

  constructor() {
    // Many consumers (tests, CLI, apps) may listen; a leak warning at 10 would be noise.
    this.#emitter.setMaxListeners(100);
  }

  /** Where failing listeners are counted (`callback.error.<event>`). */
  protected countListenerFailuresIn(counters: FailureCounter): void {
    this.#failures = counters;
  }

  on<K extends keyof Events & string>(event: K, listener: Events[K]): this {
    this.#emitter.on(event, listener);
    return this;
  }

  once<K extends keyof Events & string>(event: K, listener: Events[K]): this {
    this.#emitter.once(event, listener);
    return this;
  }

  off<K extends keyof Events & string>(event: K, listener: Events[K]): this {
    this.#emitter.off(event, listener);
    return this;
  }

  /** Number of listeners of an event. */
  listenerCount<K extends keyof Events & string>(event: K): number {
    return this.#emitter.listenerCount(event);
  }

  protected emit<K extends keyof Events & string>(event: K, ...args: Parameters<Events[K]>): void {
    // Inbound messages are emitted per packet: nothing is allocated when nobody listens. rawListeners
    // keeps `once` wrappers, so that calling one also removes it.
    if (this.#emitter.listenerCount(event) === 0) return;
    for (const listener of this.#emitter.rawListeners(event) as Listener[]) {
      try {
        const result: unknown = listener.apply(this, args);
        if (result instanceof Promise) result.catch((err: unknown) => callbackFailed(this.#failures, event, err));
      } catch (err) {
        callbackFailed(this.#failures, event, err);
      }
    }
  }
}
