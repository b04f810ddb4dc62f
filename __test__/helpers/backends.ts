/**
 * Runs a spec once per backend. Both backends are required here: if the addon does not load,
 * the native variants fail loudly rather than being skipped.
 */
import test, { type ExecutionContext } from 'ava';
import type { BackendName } from '../../ts/crypto/types.js';
import type { Crypto } from '../../ts/index.js';
import { createCrypto } from '../../ts/index.js';

export const BACKENDS: readonly BackendName[] = ['native', 'js'];

const cache = new Map<BackendName, Crypto>();

export function cryptoFor(name: BackendName): Crypto {
  let c = cache.get(name);
  if (c === undefined) {
    c = createCrypto({ backend: name });
    cache.set(name, c);
  }
  return c;
}

export function bothBackends(title: string, fn: (t: ExecutionContext, crypto: Crypto) => void | Promise<void>): void {
  for (const name of BACKENDS) {
    test(`[${name}] ${title}`, (t) => fn(t, cryptoFor(name)));
  }
}
