/** `discv5 enr decode` and `discv5 enr create`. */
import { enrJson } from '../../enr/json.js';
import { createCrypto, Discv5Error, Enr } from '../../index.js';
import { parseHex, parsePort, readKey, required, UsageError } from '../args.js';

// Moved to the library (enr/json.ts); re-exported for the commands that import it from here.
export { enrJson };

export function enrDecode(args: { positionals: string[]; json: boolean }): string {
  const text = required(args.positionals[0], 'the record (enr:...)');
  let enr: Enr;
  try {
    enr = Enr.decode(text, createCrypto());
  } catch (err) {
    if (err instanceof Discv5Error) throw new UsageError(`invalid record (${err.code}): ${err.message}`);
    throw err;
  }
  const fields = { ...enrJson(enr), signature: 'valid' };
  if (args.json) return JSON.stringify(fields);
  const lines = Object.entries(fields).map(
    ([k, v]) => `${k.padEnd(10)} ${typeof v === 'object' ? JSON.stringify(v) : v}`,
  );
  return lines.join('\n');
}

export function enrCreate(values: Record<string, string | boolean | undefined>): string {
  const key = readKey(required(values.key as string | undefined, '--key FILE'));
  const entries: Record<string, unknown> = {};
  if (values.ip) entries[(values.ip as string).includes(':') ? 'ip6' : 'ip'] = values.ip;
  if (values.udp)
    entries[(values.ip as string | undefined)?.includes(':') ? 'udp6' : 'udp'] = parsePort(
      values.udp as string,
      '--udp',
    );
  if (values.tcp)
    entries[(values.ip as string | undefined)?.includes(':') ? 'tcp6' : 'tcp'] = parsePort(
      values.tcp as string,
      '--tcp',
    );
  const other: Record<string, Uint8Array> = {};
  if (values.eth2) {
    const eth2 = parseHex(values.eth2 as string, '--eth2');
    if (eth2.length !== 16) throw new UsageError('--eth2 must be 16 bytes (ENRForkID)');
    other.eth2 = eth2;
  }
  if (values.seq !== undefined && !/^\d+$/.test(values.seq as string))
    throw new UsageError('--seq must be a non-negative integer');
  try {
    return Enr.create(key, { ...entries, other }, createCrypto(), values.seq ? BigInt(values.seq as string) : 1n).text;
  } catch (err) {
    if (err instanceof Discv5Error) throw new UsageError(`${err.code}: ${err.message}`);
    throw err;
  }
}
