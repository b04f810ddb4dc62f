/**
 * A libp2p event target whose listeners run behind the library's safe boundary (util/safe.ts):
 * a listener that throws, or an async one that rejects, is counted (`callback.error.<event>`) and
 * the other listeners, and the code that dispatched, go on. In Node, an EventTarget listener that
 * throws is reported as an uncaught exception, which ends the process: an app's bug in a 'peer'
 * listener must not take discovery (or the process) down with it.
 */
import { type EventHandler, TypedEventEmitter } from '@libp2p/interface';
import { callSafely, type FailureCounter } from '../util/safe.js';

type Guard = (evt: Event) => void;
// biome-ignore lint/suspicious/noExplicitAny: the event maps of main-event's TypedEventEmitter
type EventMap = Record<string, any>;
type AddOptions = Parameters<EventTarget['addEventListener']>[2];
type RemoveOptions = Parameters<EventTarget['removeEventListener']>[2];

export class SafeEventEmitter<Events extends EventMap> extends TypedEventEmitter<Events> {
  readonly #failures: FailureCounter;
  /** Each listener's guard, so that adding it twice is still a no-op and removing it finds the guard. */
  readonly #guards = new WeakMap<object, Guard>();

  constructor(failures: FailureCounter) {
    super();
    this.#failures = failures;
  }

  override addEventListener<K extends keyof Events>(
    type: K,
    listener: EventHandler<Events[K]> | null,
    options?: AddOptions,
  ): void {
    super.addEventListener(type, listener === null ? null : this.#guard(listener as EventHandler<Event>), options);
  }

  override removeEventListener<K extends keyof Events>(
    type: K,
    listener?: EventHandler<Events[K]> | null,
    options?: RemoveOptions,
  ): void {
    // A guard itself comes back here too (main-event removes `once` listeners by what it registered).
    const guard = listener == null ? undefined : this.#guards.get(listener);
    super.removeEventListener(type, guard ?? listener, options);
  }

  #guard(listener: EventHandler<Event>): Guard {
    let guard = this.#guards.get(listener);
    if (guard === undefined) {
      const call =
        typeof listener === 'function' ? (e: Event) => listener.call(this, e) : (e: Event) => listener.handleEvent(e);
      guard = (evt) => callSafely(this.#failures, evt.type, () => call(evt), undefined);
      this.#guards.set(listener, guard);
    }
    return guard;
  }
}
