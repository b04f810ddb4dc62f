/** Argument helpers for the CLI: every bad argument is a UsageError with a one-line reason. */
import { readFileSync } from 'node:fs';
import { fromHex } from '../util/bytes.js';

export class UsageError extends Error {
  override name = 'UsageError';
}

export function required<T>(value: T | undefined, what: string): T {
  if (value === undefined || value === '') throw new UsageError(`missing ${what}`);
  return value;
}

export function parsePort(text: string, what: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 65535) throw new UsageError(`${what} must be a port number 0..65535, got "${text}"`);
  return n;
}

/** "IP:PORT" or "[IPv6]:PORT". */
export function parseHostPort(text: string, what: string): { ip: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  if (m === null) throw new UsageError(`${what} must be IP:PORT (IPv6 as [IP]:PORT), got "${text}"`);
  return { ip: m[1] as string, port: parsePort(m[2] as string, what) };
}

/** A private key from a file holding 64 hex characters (as `discv5 keygen` writes). */
export function readKey(file: string): Uint8Array {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new UsageError(`cannot read key file ${file}: ${(err as Error).message}`);
  }
  if (!/^(0x)?[0-9a-fA-F]{64}$/.test(text)) throw new UsageError(`${file} does not hold a 32-byte hex private key`);
  return fromHex(text);
}

/** A comma-separated list (for example of records), blanks dropped. */
export function splitList(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export function parseDistances(text: string): number[] {
  const out = text.split(',').map((d) => d.trim());
  if (out.some((d) => !/^\d+$/.test(d) || Number(d) > 256))
    throw new UsageError(`distances must be integers 0..256, got "${text}"`);
  return out.map(Number);
}

export function parseHex(text: string, what: string): Uint8Array {
  if (!/^(0x)?([0-9a-fA-F]{2})*$/.test(text)) throw new UsageError(`${what} must be hex, got "${text}"`);
  return fromHex(text);
}

const DURATION_UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * A duration: plain seconds, or a number with s, m, h, d or w (`90`, `30s`, `10m`, `12h`, `7d`, `2w`),
 * in ms; up to a year, above 0 unless `allowZero`.
 */
export function parseDuration(text: string, what: string, options: { allowZero?: boolean } = {}): number {
  const m = /^(\d+(?:\.\d+)?)([smhdw]?)$/.exec(text);
  const ms = m === null ? Number.NaN : Math.round(Number(m[1]) * (DURATION_UNITS[m[2] || 's'] as number));
  if (!Number.isFinite(ms) || ms < 0 || (ms === 0 && !options.allowZero) || ms > 365 * 86_400_000)
    throw new UsageError(`${what} must be a duration such as 90, 30s, 10m, 12h or 7d, got "${text}"`);
  return ms;
}
