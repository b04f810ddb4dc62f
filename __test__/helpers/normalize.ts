/** Turns any backend output into a string, so outputs of both backends compare exactly. */
import { toHex } from '../../ts/util/bytes.js';

export function normalize(value: unknown): string {
  if (value === null) return 'null';
  if (value instanceof Uint8Array) return `bytes:${toHex(value)}`;
  if (value instanceof Uint16Array || value instanceof Uint32Array)
    return `${value.constructor.name}:${value.join(',')}`;
  if (Array.isArray(value)) return `[${value.map(normalize).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b));
    return `{${entries.map(([k, v]) => `${k}=${normalize(v)}`).join(',')}}`;
  }
  return String(value);
}
