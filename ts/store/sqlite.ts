/**
 * One small synchronous SQLite adapter over whichever driver this Node.js has: the built-in
 * `node:sqlite` (unflagged from 22.13) or else the optional peer `better-sqlite3`. Both are
 * synchronous, which suits a store whose writes are small batched transactions, and both bundle
 * their own SQLite, so the SQL is the same. The adapter hides the differences that would otherwise
 * leak to callers:
 * - integers: `node:sqlite` throws on an INTEGER beyond 2^53 unless asked for bigints, better-sqlite3
 *   silently rounds it. Both are asked for bigints and each is turned back into a number when it is
 *   safe, so a caller sees the same value on both, and never a rounded one;
 * - BLOBs: better-sqlite3 returns a `Buffer`, `node:sqlite` a plain `Uint8Array`; both become a
 *   plain `Uint8Array` (a view, no copy) so results compare equal whichever driver read them;
 * - transactions: `BEGIN IMMEDIATE`/`COMMIT`/`ROLLBACK` by hand (not better-sqlite3's wrapper), nested
 *   through savepoints, identical on both.
 * No ORM: SQL in, rows of `SqlValue` out.
 */
import { createRequire } from 'node:module';
import process from 'node:process';
import { Discv5Error, ErrorCode } from '../util/errors.js';

/** The SQLite drivers this adapter can use. */
export type DriverName = 'node:sqlite' | 'better-sqlite3';

/** A value SQLite stores: NULL, INTEGER/REAL (number, or bigint past 2^53), TEXT, BLOB. */
export type SqlValue = null | number | bigint | string | Uint8Array;

/** One row: column name to value. */
export type SqlRow = Record<string, SqlValue>;

export interface SqlStatement {
  /** Runs a statement (any kind); `changes` is the number of rows it inserted, updated or deleted. */
  run(...params: SqlValue[]): { changes: number };
  /** The first row, or undefined. Only for statements that return rows (better-sqlite3 throws otherwise). */
  get(...params: SqlValue[]): SqlRow | undefined;
  /** Every row. Only for statements that return rows. */
  all(...params: SqlValue[]): SqlRow[];
}

export interface SqlDatabase {
  readonly driver: DriverName;
  /** Runs one or more statements, ignoring any rows. */
  exec(sql: string): void;
  /** A prepared statement; the same SQL text gives the same (cached) statement. */
  prepare(sql: string): SqlStatement;
  /**
   * Runs `fn` in one transaction (`BEGIN IMMEDIATE`: the write lock is taken up front, so a busy
   * database fails here and not halfway through): committed if it returns, rolled back if it throws.
   * Nested calls become savepoints. `fn` must be synchronous: a promise would commit before its work.
   */
  transaction<T>(fn: () => T): T;
  /** Closes the connection; idempotent. */
  close(): void;
}

// The parts of each driver's API used here, typed structurally: @types/node 20 has no node:sqlite
// and better-sqlite3 is an optional peer without types in this project.
interface DriverStatement {
  run(...params: unknown[]): { changes: number | bigint };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}
interface DriverDatabase {
  exec(sql: string): unknown;
  prepare(sql: string): DriverStatement;
  close(): void;
}
interface NodeSqliteStatement extends DriverStatement {
  setReadBigInts(enabled: boolean): void;
}
export interface NodeSqliteModule {
  DatabaseSync: new (path: string) => DriverDatabase & { prepare(sql: string): NodeSqliteStatement };
}
interface BetterStatement extends DriverStatement {
  safeIntegers(enabled?: boolean): unknown;
}
export type BetterSqlite3Constructor = new (path: string) => DriverDatabase & { prepare(sql: string): BetterStatement };

/** How each driver is loaded; a test passes its own to simulate a missing one. Each returns undefined (or throws) when unavailable. */
export interface DriverLoaders {
  nodeSqlite(): NodeSqliteModule | undefined;
  betterSqlite3(): BetterSqlite3Constructor | undefined;
}

/** A loaded driver: its name and how it opens a file. */
export interface Driver {
  readonly name: DriverName;
  open(path: string): SqlDatabase;
}

export const defaultLoaders: DriverLoaders = {
  // 22.5-22.12 have node:sqlite only behind --experimental-sqlite: getBuiltinModule then returns
  // undefined or throws, and better-sqlite3 is used instead.
  nodeSqlite: () => process.getBuiltinModule?.('node:sqlite') as NodeSqliteModule | undefined,
  betterSqlite3: () => createRequire(import.meta.url)('better-sqlite3') as BetterSqlite3Constructor,
};

const INSTALL_HINT = 'run Node.js 22.13 or later (node:sqlite), or `npm install better-sqlite3@12` on Node 20';

/**
 * Loads a driver and opens an in-memory database with it, so that "available" means usable:
 * better-sqlite3 loads its native addon only at the first open, and an addon built for another
 * Node.js ABI (e.g. installed under Node 20, run under 26) fails there. Returns the reason otherwise.
 */
function attempt<T extends new (path: string) => DriverDatabase>(load: () => T | undefined): T | string {
  try {
    const ctor = load();
    if (typeof ctor !== 'function') return 'not found';
    new ctor(':memory:').close();
    return ctor;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/**
 * The driver to use: `forced` if given (and loadable), else `node:sqlite` where it exists, else
 * better-sqlite3. Throws `ERR_STORE_UNAVAILABLE`, naming what to install, when none loads.
 */
export function selectDriver(forced?: DriverName, loaders: DriverLoaders = defaultLoaders): Driver {
  if (forced !== undefined && forced !== 'node:sqlite' && forced !== 'better-sqlite3') {
    throw new Discv5Error(ErrorCode.INVALID_ARGUMENT, `unknown SQLite driver: ${String(forced)}`);
  }
  if (forced !== 'better-sqlite3') {
    const ctor = attempt(() => loaders.nodeSqlite()?.DatabaseSync);
    if (typeof ctor !== 'string') return nodeSqliteDriver(ctor);
    if (forced === 'node:sqlite') {
      throw new Discv5Error(
        ErrorCode.STORE_UNAVAILABLE,
        `node:sqlite is not available in Node.js ${process.versions.node} (${ctor}): run Node.js 22.13 or later`,
      );
    }
  }
  const ctor = attempt(() => loaders.betterSqlite3());
  if (typeof ctor !== 'string') return betterSqlite3Driver(ctor);
  const hint =
    ctor === 'not found' || /Cannot find (module|package) 'better-sqlite3'/.test(ctor)
      ? INSTALL_HINT
      : `better-sqlite3 does not load (${ctor}): rebuild it for this Node.js (\`npm rebuild better-sqlite3\`), or ${INSTALL_HINT}`;
  throw new Discv5Error(
    ErrorCode.STORE_UNAVAILABLE,
    forced === 'better-sqlite3'
      ? `better-sqlite3 is not usable: ${hint}`
      : `no SQLite driver for the store in Node.js ${process.versions.node}: ${hint}`,
  );
}

function nodeSqliteDriver(DatabaseSync: NodeSqliteModule['DatabaseSync']): Driver {
  return {
    name: 'node:sqlite',
    open: (path) => {
      const db = new DatabaseSync(path);
      return new Adapter('node:sqlite', db, (s) => (s as NodeSqliteStatement).setReadBigInts(true));
    },
  };
}

function betterSqlite3Driver(ctor: BetterSqlite3Constructor): Driver {
  return {
    name: 'better-sqlite3',
    open: (path) => {
      const db = new ctor(path);
      return new Adapter('better-sqlite3', db, (s) => (s as BetterStatement).safeIntegers(true));
    },
  };
}

/** Integers back to numbers where exact, BLOBs to plain Uint8Array views (see the file comment). */
function normalizeRow(row: unknown): SqlRow {
  const r = row as SqlRow;
  for (const key in r) {
    const v = r[key];
    if (typeof v === 'bigint') {
      if (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) r[key] = Number(v);
    } else if (v instanceof Uint8Array && v.constructor !== Uint8Array) {
      r[key] = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    }
  }
  return r;
}

class Statement implements SqlStatement {
  constructor(private readonly stmt: DriverStatement) {}

  run(...params: SqlValue[]): { changes: number } {
    return { changes: Number(this.stmt.run(...params).changes) };
  }

  get(...params: SqlValue[]): SqlRow | undefined {
    const row = this.stmt.get(...params);
    return row === undefined ? undefined : normalizeRow(row);
  }

  all(...params: SqlValue[]): SqlRow[] {
    return this.stmt.all(...params).map(normalizeRow);
  }
}

class Adapter implements SqlDatabase {
  private readonly statements = new Map<string, Statement>();
  private depth = 0;
  private open = true;

  constructor(
    readonly driver: DriverName,
    private readonly db: DriverDatabase,
    private readonly configure: (stmt: DriverStatement) => void,
  ) {}

  exec(sql: string): void {
    this.db.exec(sql);
  }

  prepare(sql: string): SqlStatement {
    let stmt = this.statements.get(sql);
    if (stmt === undefined) {
      const raw = this.db.prepare(sql);
      this.configure(raw);
      stmt = new Statement(raw);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  transaction<T>(fn: () => T): T {
    const savepoint = this.depth > 0 ? `sp${this.depth}` : undefined;
    this.db.exec(savepoint ? `SAVEPOINT ${savepoint}` : 'BEGIN IMMEDIATE');
    this.depth++;
    try {
      const result = fn();
      if (typeof (result as { then?: unknown } | null)?.then === 'function') {
        throw new TypeError('a transaction callback must be synchronous');
      }
      this.db.exec(savepoint ? `RELEASE ${savepoint}` : 'COMMIT');
      return result;
    } catch (err) {
      // A failed COMMIT (e.g. disk full) leaves the transaction open; some errors have already
      // rolled it back, and then ROLLBACK itself fails, which is fine.
      try {
        this.db.exec(savepoint ? `ROLLBACK TO ${savepoint}; RELEASE ${savepoint}` : 'ROLLBACK');
      } catch {}
      throw err;
    } finally {
      this.depth--;
    }
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    this.statements.clear();
    this.db.close();
  }
}
