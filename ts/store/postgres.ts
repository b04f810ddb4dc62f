/**
 * The PostgreSQL side of the store layer, for databases that several processes (a fleet of
 * crawlers, on several machines) write at once. The `pg` client is an optional peer dependency,
 * loaded only when a postgres URL is given; without it the caller gets ERR_STORE_UNAVAILABLE naming
 * what to install.
 *
 * SQL is written once for both engines with `?` placeholders (numbered `$1, $2...` here), and rows
 * come back as the SQLite adapter gives them: BIGINT as a number where exact (pg gives strings by
 * default), a bigint beyond 2^53. Type parsing is set per pool, never on pg's global registry, which
 * would change the values other code in the same process receives.
 *
 * Migrations run under a transaction-scoped advisory lock, so two crawlers that open a fresh
 * database at the same moment apply each step once; the version lives in a one-row table
 * (`discv5_schema`), PostgreSQL's equivalent of SQLite's `user_version`.
 */
import { createRequire } from 'node:module';
import { Discv5Error, ErrorCode } from '../util/errors.js';
import { messageOf } from './open.js';
import type { SqlRow, SqlValue } from './sqlite.js';

/** A connection (or a transaction's connection) that runs SQL with `?` placeholders. */
export interface PgQueryable {
  query(sql: string, params?: readonly SqlValue[]): Promise<SqlRow[]>;
}

/** The parts of pg's API used here, typed structurally: pg is an optional peer. */
interface PgClient {
  query(config: { text: string; values?: unknown[] }): Promise<PgResult | PgResult[]>;
  release(err?: Error | boolean): void;
}
interface PgPool {
  connect(): Promise<PgClient>;
  query(config: { text: string; values?: unknown[] }): Promise<PgResult | PgResult[]>;
  end(): Promise<void>;
  on(event: 'error', listener: (err: Error) => void): unknown;
}
interface PgModule {
  Pool: new (config: Record<string, unknown>) => PgPool;
  types: { getTypeParser(oid: number, format?: string): (text: string) => unknown };
}

/** Loads `pg`, or throws ERR_STORE_UNAVAILABLE saying how to get it. `load` lets tests simulate its absence. */
export function loadPg(load: () => unknown = () => createRequire(import.meta.url)('pg')): PgModule {
  try {
    const mod = load() as PgModule | { default?: PgModule } | undefined;
    const pg = (mod as { Pool?: unknown })?.Pool ? (mod as PgModule) : (mod as { default?: PgModule })?.default;
    if (pg?.Pool === undefined) throw new Error('the module has no Pool');
    return pg;
  } catch (err) {
    throw new Discv5Error(
      ErrorCode.STORE_UNAVAILABLE,
      `a postgres:// database needs the pg client: \`npm install pg\` (${messageOf(err).split('\n')[0]})`,
      { cause: err },
    );
  }
}

const INT8_OID = 20;
/** PostgreSQL error codes worth a retry: a deadlock or a serialization failure between two writers. */
const RETRYABLE = new Set(['40P01', '40001']);
const MAX_ATTEMPTS = 5;

/** `?` placeholders to `$1, $2...` (the SQL here never holds a literal question mark). */
export function numberPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

function toNumber(text: string): number | bigint {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text);
}

function normalize(row: Record<string, unknown>): SqlRow {
  for (const key in row) {
    const v = row[key];
    if (v instanceof Uint8Array && v.constructor !== Uint8Array)
      row[key] = new Uint8Array(v.buffer, v.byteOffset, v.length);
  }
  return row as SqlRow;
}

type PgResult = { rows?: Record<string, unknown>[] };

/** The rows of a result; several statements in one text (a migration) give a result each: the last one's. */
function rowsOf(result: PgResult | PgResult[]): SqlRow[] {
  const last = Array.isArray(result) ? result[result.length - 1] : result;
  return (last?.rows ?? []).map(normalize);
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

export class PgDatabase implements PgQueryable {
  readonly location: string;
  readonly #pool: PgPool;
  #closed = false;

  private constructor(pool: PgPool, location: string) {
    this.#pool = pool;
    this.location = location;
  }

  /** Connects (a pool of up to `maxConnections`) and checks the server answers. Throws ERR_STORE if it does not. */
  static async connect(
    url: string,
    options: { maxConnections?: number; load?: () => unknown } = {},
  ): Promise<PgDatabase> {
    const pg = loadPg(options.load);
    const location = redactUrl(url);
    const parse = pg.types.getTypeParser.bind(pg.types);
    const pool = new pg.Pool({
      connectionString: url,
      max: options.maxConnections ?? 4,
      connectionTimeoutMillis: 10_000,
      // A server that stops answering mid-query must not hang a crawl's shutdown forever.
      query_timeout: 120_000,
      types: { getTypeParser: (oid: number, format?: string) => (oid === INT8_OID ? toNumber : parse(oid, format)) },
    });
    // An idle connection the server drops emits 'error' on the pool: without a listener that would
    // be an uncaught exception. The next query gets a fresh connection, or its own error.
    pool.on('error', () => {});
    const db = new PgDatabase(pool, location);
    try {
      await db.query('SELECT 1');
    } catch (err) {
      await pool.end().catch(() => {});
      throw new Discv5Error(ErrorCode.STORE, `cannot reach the database ${location}: ${messageOf(err)}`, {
        cause: err,
      });
    }
    return db;
  }

  async query(sql: string, params: readonly SqlValue[] = []): Promise<SqlRow[]> {
    this.#open();
    return rowsOf(await this.#pool.query({ text: numberPlaceholders(sql), values: [...params] }));
  }

  /**
   * Runs `fn` in one transaction on one connection: committed if it resolves, rolled back if it
   * throws. A deadlock or serialization failure (two writers crossing) is retried from the start,
   * a few times, so `fn` must do nothing but database work.
   */
  async transaction<T>(fn: (tx: PgQueryable) => Promise<T>): Promise<T> {
    this.#open();
    for (let attempt = 1; ; attempt++) {
      const client = await this.#pool.connect();
      const tx: PgQueryable = {
        query: async (sql, params = []) =>
          rowsOf(await client.query({ text: numberPlaceholders(sql), values: [...params] })),
      };
      let broken = false;
      try {
        await client.query({ text: 'BEGIN' });
        const result = await fn(tx);
        await client.query({ text: 'COMMIT' });
        return result;
      } catch (err) {
        try {
          await client.query({ text: 'ROLLBACK' });
        } catch {
          broken = true; // the connection is gone: do not hand it back to the pool
        }
        const code = (err as { code?: unknown }).code;
        if (attempt < MAX_ATTEMPTS && typeof code === 'string' && RETRYABLE.has(code)) continue;
        throw err;
      } finally {
        client.release(broken);
      }
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }

  #open(): void {
    if (this.#closed) throw new Discv5Error(ErrorCode.STORE, `the database ${this.location} is closed`);
  }
}

/** An arbitrary constant: the advisory lock key the migrations of this library take. */
const MIGRATION_LOCK = 0x6469_7363;

/**
 * Brings a PostgreSQL database to the newest of `steps` (SQL per version, 1, 2, 3...), each step in
 * one transaction with the recorded version. Throws ERR_STORE for a database written by a newer
 * release: a server is shared, so unlike a file it is never moved aside.
 */
export async function migratePg(db: PgDatabase, steps: readonly string[]): Promise<{ from: number; to: number }> {
  const newest = steps.length;
  let from = -1;
  for (;;) {
    const done = await db.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`);
      await tx.query('CREATE TABLE IF NOT EXISTS discv5_schema (version INTEGER NOT NULL)');
      const rows = await tx.query('SELECT version FROM discv5_schema');
      const version = rows.length === 0 ? 0 : Number(rows[0]?.version);
      if (from < 0) from = version;
      if (version > newest) {
        throw new Discv5Error(
          ErrorCode.STORE,
          `the database ${db.location} has schema version ${version}; this version knows up to ${newest}`,
        );
      }
      if (version === newest) return true;
      await tx.query(steps[version] as string);
      if (rows.length === 0) await tx.query('INSERT INTO discv5_schema (version) VALUES (?)', [version + 1]);
      else await tx.query('UPDATE discv5_schema SET version = ?', [version + 1]);
      return false;
    });
    if (done) return { from, to: newest };
  }
}
