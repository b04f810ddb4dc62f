/**
 * TXT lookups through node:dns (c-ares), each bounded by its own timeout and by the walk's
 * AbortSignal. Failures are LookupErrors with a kind; the caller decides what they mean.
 */
import { Resolver } from 'node:dns/promises';
import { Discv5Error, ErrorCode } from '../util/errors.js';
import { MAX_TXT_RECORDS } from './constants.js';

export type LookupFailure = 'timeout' | 'not-found' | 'failed' | 'aborted';

export class LookupError extends Error {
  readonly kind: LookupFailure;

  constructor(kind: LookupFailure, message: string) {
    super(message);
    this.name = 'LookupError';
    this.kind = kind;
  }
}

const NOT_FOUND = new Set(['ENOTFOUND', 'ENODATA']);

function lookupError(name: string, err: unknown): LookupError {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'ETIMEOUT') return new LookupError('timeout', `${name}: DNS lookup timed out`);
  if (code === 'ECANCELLED') return new LookupError('aborted', `${name}: DNS lookup cancelled`);
  if (typeof code === 'string' && NOT_FOUND.has(code)) return new LookupError('not-found', `${name}: no TXT record`);
  return new LookupError('failed', `${name}: DNS lookup failed (${typeof code === 'string' ? code : String(err)})`);
}

export interface TxtLookupOptions {
  /** "IP", "IP:PORT" or "[IPv6]:PORT"; default: the system's resolvers. */
  server?: string;
  timeoutMs: number;
  signal: AbortSignal;
}

export class TxtLookup {
  readonly #resolver: Resolver;
  readonly #timeoutMs: number;
  readonly #signal: AbortSignal;

  /** Throws ERR_INVALID_ARGUMENT if `server` is not an address node:dns accepts. */
  constructor(options: TxtLookupOptions) {
    this.#timeoutMs = options.timeoutMs;
    this.#signal = options.signal;
    // c-ares tries twice (the second try waits twice as long); the timer below is the hard bound.
    this.#resolver = new Resolver({ timeout: Math.max(1, Math.ceil(options.timeoutMs / 3)), tries: 2 });
    if (options.server !== undefined) {
      try {
        this.#resolver.setServers([options.server]);
      } catch (err) {
        throw new Discv5Error(
          ErrorCode.INVALID_ARGUMENT,
          `DNS server must be "IP" or "IP:PORT", got "${options.server}"`,
          {
            cause: err,
          },
        );
      }
    }
  }

  /** The TXT records at `name` (at most MAX_TXT_RECORDS), each record's strings joined. */
  txt(name: string): Promise<string[]> {
    if (this.#signal.aborted) return Promise.reject(new LookupError('aborted', `${name}: aborted`));
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (err: LookupError | null, records?: string[]) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.#signal.removeEventListener('abort', onAbort);
        if (err === null) resolve(records ?? []);
        else reject(err);
      };
      const onAbort = () => finish(new LookupError('aborted', `${name}: aborted`));
      const timer = setTimeout(
        () => finish(new LookupError('timeout', `${name}: no answer within ${this.#timeoutMs} ms`)),
        this.#timeoutMs,
      );
      this.#signal.addEventListener('abort', onAbort, { once: true });
      this.#resolver.resolveTxt(name).then(
        (records) =>
          finish(
            null,
            records.slice(0, MAX_TXT_RECORDS).map((chunks) => chunks.join('')),
          ),
        (err: unknown) => finish(lookupError(name, err)),
      );
    });
  }

  /** Cancels every lookup still under way (their promises are already settled or abandoned). */
  close(): void {
    this.#resolver.cancel();
  }
}
