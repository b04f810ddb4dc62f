/**
 * What the helpers that start a real program for specs (helpers/postgres.ts, helpers/chromium.ts)
 * share: running a command with a hard timeout, a watchdog that cleans up after a killed worker,
 * and getting the program from a Debian package.
 *
 * `ensureDebianPackage()` returns the program if it is there; if it is missing and we are root, it
 * installs the package with apt-get, once for all ava workers (a lock file serialises them);
 * otherwise the error says what to install.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import {
  accessSync,
  closeSync,
  constants,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';

export const isRoot = process.getuid?.() === 0;
// Messages in English whatever the machine's locale, so that they can be recognised (a port clash,
// say); apt-get asks nothing.
export const childEnv = { ...process.env, LC_ALL: 'C', LANG: 'C', DEBIAN_FRONTEND: 'noninteractive' };
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An executable file (not a directory), links followed. */
export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs argv with a hard timeout (SIGKILL); resolves with its exit code and output, never rejects. */
export function runCommand(argv: string[], timeoutMs: number): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(
      argv[0] as string,
      argv.slice(1),
      { cwd: '/', env: childEnv, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
        const why = err && code === null ? `\n(${err.killed ? `killed after ${timeoutMs} ms` : err.message})` : '';
        resolve({ code, stdout, stderr: stderr + why });
      },
    );
  });
}

/** How argv ended, with the last lines of its output. */
export function describeRun(argv: string[], r: Ran): string {
  const out = `${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-15).join('\n');
  return `\`${argv.join(' ')}\` exited ${r.code ?? 'abnormally'}:\n${out}`;
}

/**
 * A detached shell that runs `script` (with `args` as $1...) once this process's end of its stdin
 * pipe closes: `read` returns then, however this process ended, even by SIGKILL. It holds nothing
 * open that would keep this process alive; kill it when the cleanup has been done otherwise.
 */
export function spawnWatchdog(script: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const watchdog = spawn('/bin/sh', ['-c', `read -r _; ${script}`, 'sh', ...args], {
    cwd: '/',
    env,
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  watchdog.on('error', () => {});
  watchdog.stdin?.on('error', () => {});
  watchdog.unref();
  (watchdog.stdin as unknown as { unref?(): void } | null)?.unref?.();
  return watchdog;
}

export interface DebianPackage {
  /** The package that provides the program on Debian 12, e.g. `postgresql-15`. */
  pkg: string;
  /** Where the program is (a path or a dir), or undefined if it is missing. */
  find: () => string | undefined;
  /** Whose need it is, the start of every error, e.g. `PostgreSQL specs`. */
  what: string;
  /** What is missing, e.g. `initdb/pg_ctl`. */
  binaries: string;
  /** Where it was looked for, e.g. `in /usr/lib/postgresql/<version>/bin nor in PATH`; nothing if left out. */
  where?: string;
  /** What to install, and how, for the errors. */
  hint: string;
  /** Names the lock file and the progress line, e.g. `postgres`. */
  helper: string;
  /** Runs before apt-get, holding the lock (e.g. to tell the package's scripts what not to do). */
  prepare?: () => void;
  /** The bound on each apt-get step. */
  stepTimeoutMs: number;
  /** How long to wait for another process's install before giving up. */
  lockTimeoutMs: number;
}

/** The program, installed with apt-get first if it is missing and we are root. */
export async function ensureDebianPackage(o: DebianPackage): Promise<string> {
  const found = o.find();
  if (found) return found;
  if (!isRoot || !isExecutable('/usr/bin/apt-get')) {
    throw new Error(`${o.what}: no ${o.binaries}${o.where ? ` ${o.where}` : ''}; ${o.hint}`);
  }
  await withInstallLock(o, async () => {
    if (o.find()) return; // another worker installed it while we waited
    process.stderr.write(`[${o.helper} helper] installing ${o.pkg} with apt-get\n`);
    o.prepare?.();
    const steps = [
      ['apt-get', 'update'],
      ['apt-get', 'install', '-y', '--no-install-recommends', '-o', 'DPkg::Lock::Timeout=120', o.pkg],
    ];
    for (const argv of steps) {
      const r = await runCommand(argv, o.stepTimeoutMs);
      if (r.code !== 0) throw new Error(`${o.what}: ${describeRun(argv, r)}\n${o.hint}`);
    }
  });
  const installed = o.find();
  if (!installed) throw new Error(`${o.what}: ${o.pkg} installed, still no ${o.binaries}; ${o.hint}`);
  return installed;
}

/** Runs fn holding a lock file shared by all processes of this machine (stale locks are taken over). */
async function withInstallLock(o: DebianPackage, fn: () => Promise<void>): Promise<void> {
  const path = join(tmpdir(), `discv5-native-${o.helper}-install.lock`);
  const deadline = Date.now() + o.lockTimeoutMs;
  for (;;) {
    try {
      const fd = openSync(path, 'wx');
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (lockIsStale(path)) rmSync(path, { force: true });
    else if (Date.now() > deadline) {
      throw new Error(`${o.what}: ${path} held for ${Math.round(o.lockTimeoutMs / 60_000)} min; ${o.hint}`);
    } else await sleep(500);
  }
  try {
    await fn();
  } finally {
    unlinkSync(path);
  }
}

/** The holder is gone, or never wrote its pid (it died between creating the file and writing it). */
function lockIsStale(path: string): boolean {
  try {
    const holder = Number(readFileSync(path, 'utf8'));
    return holder > 0 ? !isAlive(holder) : Date.now() - statSync(path).mtimeMs > 10_000;
  } catch {
    return false; // released meanwhile: the next attempt takes it
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
