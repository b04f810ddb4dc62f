/** node:events with typed event names and listener signatures. */
import { EventEmitter } from 'node:events';

// biome-ignore lint/suspicious/noExplicitAny: listener argument lists vary per event
type Listener = (...args: any[]) => void;

export class TypedEmitter<Events extends { [K in keyof Events]: Listener }> {
  readonly #emitter = new EventEmitter();

  constructor() {
    // Many consumers (tests, CLI, apps) may listen; a leak warning at 10 would be noise.
    this.#emitter.setMaxListeners(100);
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

  protected emit<K extends keyof Events & string>(event: K, ...args: Parameters<Events[K]>): void {
    this.#emitter.emit(event, ...args);
  }
}
