/**
 * The one boundary between the library and code it does not own: event listeners, predicates,
 * table filters, TALK handlers, a crawl's `onNode`. Whatever such code throws (or an async listener
 * rejects with) is counted and logged at debug level, and never reaches the protocol code that
 * called it: a throwing listener must not stop a lookup, a crawl, a handshake or the server. The
 * same goes for promises the library starts and does not await (`detach`): their rejections are
 * handled here, so none can become an unhandled rejection that ends the process.
 */
import { createLogger } from './logger.js';

const log = createLogger('discv5:callback');

/** Where failures are counted: a node's `Counters`, or anything with `inc`. */
export interface FailureCounter {
  inc(name: string, by?: number): void;
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return typeof x === 'object' && x !== null && typeof (x as { then?: unknown }).then === 'function';
}

/** Counts (`callback.error`, `callback.error.<what>`) and logs one failed user callback. */
export function callbackFailed(counters: FailureCounter | undefined, what: string, err: unknown): void {
  counters?.inc('callback.error');
  counters?.inc(`callback.error.${what}`);
  if (log.enabled) log.debug(`${what} threw: ${describe(err)}`);
}

/**
 * Runs user code: its result, or `fallback` if it threw. A promise it returns has its rejection
 * handled (counted) but is otherwise returned as it is.
 */
export function callSafely<R>(counters: FailureCounter | undefined, what: string, fn: () => R, fallback: R): R {
  try {
    const r = fn();
    if (isThenable(r)) {
      Promise.resolve(r).catch((err: unknown) => callbackFailed(counters, what, err));
    }
    return r;
  } catch (err) {
    callbackFailed(counters, what, err);
    return fallback;
  }
}

/** A user predicate that reads as false when it throws. */
export function safePredicate<T>(
  counters: FailureCounter | undefined,
  what: string,
  predicate: (x: T) => boolean,
): (x: T) => boolean {
  return (x) => callSafely(counters, what, () => predicate(x) === true, false);
}

/**
 * A promise the library starts and does not wait for: a rejection is counted (`detached.<what>`)
 * and logged, never left unhandled.
 */
export function detach(promise: Promise<unknown>, counters: FailureCounter | undefined, what: string): void {
  promise.catch((err: unknown) => {
    counters?.inc(`detached.${what}`);
    if (log.enabled) log.debug(`${what} failed: ${describe(err)}`);
  });
}
