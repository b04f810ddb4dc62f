/** Nodes for network specs: on a MemoryNetwork or on UDP loopback, with ephemeral ports, always stopped. */
import type { ExecutionContext } from 'ava';
import type { BackendName } from '../../ts/crypto/types.js';
import { type Crypto, createCrypto, Discv5, type Discv5Config, type MemoryNetwork } from '../../ts/index.js';
import { cryptoFor } from './backends.js';

export type Place = { network: MemoryNetwork } | 'udp';

/** The backend this run tests with (DISCV5_BACKEND, else auto). */
export const envCrypto: Crypto = createCrypto();

export async function startNode(
  t: ExecutionContext,
  place: Place,
  options: { backend?: BackendName; config?: Partial<Discv5Config>; privateKey?: Uint8Array; cls?: typeof Discv5 } = {},
): Promise<Discv5> {
  const crypto = options.backend ? cryptoFor(options.backend) : envCrypto;
  const cls = options.cls ?? Discv5;
  const node = await cls.create({
    privateKey: options.privateKey ?? crypto.generatePrivateKey(),
    crypto,
    ...(place === 'udp' ? { bind: { ip4: { ip: '127.0.0.1', port: 0 } } } : { transport: place.network.transport() }),
    config: { requestTimeoutMs: 500, ...options.config },
  });
  await node.start();
  t.teardown(() => node.stop());
  return node;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Resolves once `predicate` holds, polling every `intervalMs` (longer for costly predicates); rejects
 * after `timeoutMs` so a test can never hang. Bounds are generous: they only keep a broken run finite.
 */
export async function waitFor(
  predicate: () => boolean,
  timeoutMs = 5_000,
  what = 'condition',
  intervalMs = 5,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}
