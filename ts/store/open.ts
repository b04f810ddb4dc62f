/**
 * Opening a store file so that the caller gets either a sound database at the newest schema or an
 * error with a stable code, never a crash and never a silently wrong state:
 * - the directory is made owner-only (0700) when created and the file is created 0600 before SQLite
 *   touches it, so a private key stored inside is never readable by others, not even for a moment
 *   (SQLite gives its -wal and -shm files the mode of the database file);
 * - WAL with synchronous=NORMAL: a commit is one append to the log, and a kill -9 loses nothing
 *   committed (a power cut may lose the last commits, never the file's consistency);
 * - a file that is not a database, fails `PRAGMA quick_check`, or was written by a newer schema is
 *   reported, renamed aside with its -wal/-shm (so the set stays openable for a post-mortem) and
 *   replaced by a fresh store. Any other failure (permissions, disk full, locked) is not the file's
 *   fault: it throws ERR_STORE and leaves the file where it is.
 */
import fs from 'node:fs';
import { dirname } from 'node:path';
import process from 'node:process';
import { Discv5Error, ErrorCode } from '../util/errors.js';
import { checkMigrations, type Migration, migrate } from './migrations.js';
import { type Driver, type SqlDatabase, selectDriver } from './sqlite.js';
import type { StoreOptions, StoreReport } from './types.js';

export interface OpenOptions extends StoreOptions {
  /** The schema, oldest step first (see migrations.ts). */
  migrations: readonly Migration[];
  /**
   * Hold the database's lock for as long as it is open (`locking_mode=EXCLUSIVE`): a second process
   * (or a second open in this one) then fails with ERR_STORE instead of sharing the file. Right for
   * a node's own store (two nodes with one key would be one node id twice); a store meant to be read
   * while written (e.g. a crawl being watched) leaves it off.
   */
  exclusive?: boolean;
}

/** Files SQLite keeps beside a database; they belong to it and move with it. */
const SIBLINGS = ['-wal', '-shm', '-journal'] as const;

const DEFAULT_BUSY_TIMEOUT_MS = 5_000;

type Attempt = { db: SqlDatabase } | { kind: 'corrupt' | 'newer-schema'; detail: string };

/**
 * Opens (creating if needed) the SQLite database at `path` and brings it to the newest schema.
 * Throws ERR_STORE_UNAVAILABLE when no driver loads, ERR_STORE when the file cannot be used and
 * a fresh one cannot be made either.
 */
export function openDatabase(path: string, options: OpenOptions): SqlDatabase {
  checkMigrations(options.migrations);
  const driver = selectDriver(options.driver, options.loaders);
  prepareFile(path);
  const first = attemptOpen(path, driver, options);
  if ('db' in first) return first.db;

  const movedTo = moveAside(path, first.kind);
  report(options, { kind: first.kind, path, movedTo, detail: first.detail });
  prepareFile(path);
  const second = attemptOpen(path, driver, options);
  if ('db' in second) return second.db;
  throw new Discv5Error(
    ErrorCode.STORE,
    `a fresh store at ${path} is ${second.kind} too (${second.detail}); the old one is at ${movedTo}`,
  );
}

function attemptOpen(path: string, driver: Driver, options: OpenOptions): Attempt {
  let db: SqlDatabase | undefined;
  try {
    db = driver.open(path);
    // Before anything reads the file: locking_mode must precede WAL (then the WAL index lives in
    // this process's memory and no -shm is shared), busy_timeout the first lock.
    if (options.exclusive) db.exec('PRAGMA locking_mode = EXCLUSIVE');
    db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS))}`);
    // The first statement that reads the header: a file that is not a database fails here.
    db.prepare('PRAGMA journal_mode = WAL').get();
    db.exec('PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON');
    const problems = db
      .prepare('PRAGMA quick_check(5)')
      .all()
      .map((row) => String(Object.values(row)[0]));
    if (problems.length !== 1 || problems[0] !== 'ok') {
      db.close();
      return { kind: 'corrupt', detail: `quick_check: ${problems.join('; ').replace(/\n/g, '; ')}` };
    }
    // A second owner must fail here, at open, not at its first write minutes later. WAL in exclusive
    // mode already holds the lock from the first read; should WAL be refused (some filesystems), the
    // rollback journal only takes it at a write, hence this empty one.
    if (options.exclusive) db.transaction(() => {});
    const result = migrate(db, options.migrations);
    if (!result.ok) {
      db.close();
      return {
        kind: 'newer-schema',
        detail: `schema version ${result.found}, this version knows up to ${result.newest}`,
      };
    }
    return { db };
  } catch (err) {
    try {
      db?.close();
    } catch {}
    if (isCorruption(err)) return { kind: 'corrupt', detail: messageOf(err) };
    if (err instanceof Discv5Error) throw err;
    const why = isBusy(err) ? 'it is in use by another process (or opened twice in this one)' : messageOf(err);
    throw new Discv5Error(ErrorCode.STORE, `cannot open the store ${path}: ${why}`, { cause: err });
  }
}

/** Directory 0700 when we create it; the file 0600, created before SQLite opens it. */
function prepareFile(path: string): void {
  try {
    fs.mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const fd = fs.openSync(path, 'a', 0o600);
    try {
      fs.fchmodSync(fd, 0o600); // an existing file keeps its mode on open: tighten it
    } finally {
      fs.closeSync(fd);
    }
    for (const suffix of SIBLINGS) {
      if (fs.existsSync(path + suffix)) fs.chmodSync(path + suffix, 0o600);
    }
  } catch (err) {
    throw new Discv5Error(ErrorCode.STORE, `cannot create the store ${path}: ${messageOf(err)}`, { cause: err });
  }
}

/**
 * Renames the database and its siblings to `<path>.<kind>-<time>[-n]` (+ the same suffixes).
 * Siblings first: a stale -wal left beside a fresh database would be replayed into it.
 */
function moveAside(path: string, kind: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-'); // no ':' (Windows file names)
  let target = `${path}.${kind}-${stamp}`;
  for (let n = 1; fs.existsSync(target); n++) target = `${path}.${kind}-${stamp}-${n}`;
  try {
    for (const suffix of SIBLINGS) {
      if (fs.existsSync(path + suffix)) fs.renameSync(path + suffix, target + suffix);
    }
    fs.renameSync(path, target);
  } catch (err) {
    throw new Discv5Error(
      ErrorCode.STORE,
      `the store ${path} is ${kind} and cannot be moved aside: ${messageOf(err)}`,
      {
        cause: err,
      },
    );
  }
  return target;
}

/** Hands a report to `options.onReport`, or to process.emitWarning when there is none. */
export function report(options: StoreOptions, r: StoreReport): void {
  try {
    if (options.onReport) options.onReport(r);
    else process.emitWarning(`${r.kind} in the store ${r.path}: ${r.detail}`, { type: 'Discv5StoreWarning' });
  } catch {
    // A logging callback must not turn a recovered store into a failed start.
  }
}

// SQLite's primary result codes (the low byte of an extended code).
const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;
const SQLITE_CORRUPT = 11;
const SQLITE_NOTADB = 26;

/** node:sqlite gives `errcode` (a number); better-sqlite3 a `code` string such as 'SQLITE_CORRUPT_INDEX'. */
function sqliteCode(err: unknown): number | string | undefined {
  const e = err as { errcode?: unknown; code?: unknown } | null;
  if (typeof e?.errcode === 'number') return e.errcode & 0xff;
  return typeof e?.code === 'string' && e.code.startsWith('SQLITE_') ? e.code : undefined;
}

function isCorruption(err: unknown): boolean {
  const code = sqliteCode(err);
  if (code === SQLITE_CORRUPT || code === SQLITE_NOTADB) return true;
  if (typeof code === 'string' && /^SQLITE_(CORRUPT|NOTADB)/.test(code)) return true;
  return /file is not a database|malformed/i.test(messageOf(err));
}

function isBusy(err: unknown): boolean {
  const code = sqliteCode(err);
  return (
    code === SQLITE_BUSY || code === SQLITE_LOCKED || (typeof code === 'string' && /^SQLITE_(BUSY|LOCKED)/.test(code))
  );
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
