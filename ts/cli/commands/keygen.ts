/** `discv5 keygen [--out FILE]`: a new secp256k1 private key, as 64 hex characters. */
import { writeFileSync } from 'node:fs';
import { createCrypto } from '../../index.js';
import { toHex } from '../../util/bytes.js';
import { UsageError } from '../args.js';

export function keygen(out: string | undefined): string {
  const key = toHex(createCrypto().generatePrivateKey());
  if (out === undefined) return key;
  try {
    writeFileSync(out, `${key}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    throw new UsageError(`cannot write ${out}: ${(err as Error).message}`);
  }
  return `wrote a new key to ${out}`;
}
