/**
 * A process's CPU and memory from /proc (Linux), for processes the benchmark did not start as
 * Node children it can ask: testnet shards, and go-ethereum's crawler where there is no
 * /usr/bin/time. Clock ticks are taken as 100 a second (USER_HZ, fixed on Linux).
 */
import { readFileSync } from 'node:fs';

export interface ProcUsage {
  /** User plus system CPU so far, ms. */
  cpuMs: number;
  rssMb: number;
  /** Peak resident memory (VmHWM). */
  peakRssMb: number;
}

/** Its usage now, or undefined once it has gone. */
export function procUsage(pid: number): ProcUsage | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    // Fields after the command name (which may hold spaces): utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
    return {
      cpuMs: (Number(fields[11]) + Number(fields[12])) * 10,
      rssMb: Math.round(kb('VmRSS') / 1024),
      peakRssMb: Math.round(kb('VmHWM') / 1024),
    };
  } catch {
    return undefined;
  }
}
