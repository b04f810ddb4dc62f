/**
 * A node's own store, `<dataDir>/node.db`: its private key, the seq of its last record, and the
 * nodes it knew (its routing table and other known records), so a restart keeps its identity and
 * rejoins the network from where it was instead of from the bootnodes alone.
 *
 * Reads happen at start; writes are either single values written at once (key, seq) or batches of
 * node changes that the caller collects and hands over in one call (one transaction each). Rows are
 * checked when read back: anything that cannot be what this code wrote is skipped and reported, so
 * a damaged row never reaches the routing table. After close() every method throws ERR_STORE: a
 * write arriving after shutdown is a bug in the caller's stop order, and dropping it silently would
 * hide exactly the loss this store exists to prevent.
 */
import { join } from 'node:path';
import { Discv5Error, ErrorCode } from '../util/errors.js';
import { messageOf, openDatabase, report } from './open.js';
import type { DriverName, SqlDatabase, SqlValue } from './sqlite.js';
import type { StoreOptions, StoreReport } from './types.js';

/** One node as the store keeps it. */
export interface StoredNode {
  /** 32 bytes. */
  nodeId: Uint8Array;
  /** The node's record, its RLP bytes. */
  enr: Uint8Array;
  /** Whether the node answered when last asked. */
  live: boolean;
  /** When it was last seen, ms since the epoch; 0 = never. */
  lastSeen: number;
  /** In the routing table (kept by prune), rather than only a known record. */
  inTable: boolean;
}

export type NodeStoreOptions = StoreOptions;

export const NODE_DB_FILE = 'node.db';
const NODE_ID_BYTES = 32;
const PRIVATE_KEY_BYTES = 32;
const MAX_SEQ = (1n << 64n) - 1n;
const KEY_PRIVATE_KEY = 'private_key';
const KEY_SEQ = 'enr_seq';

/** The schema, oldest step first; append steps, never edit a released one. */
export const NODE_MIGRATIONS = [
  {
    version: 1,
    up: `
      CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB);
      CREATE TABLE nodes (
        node_id BLOB PRIMARY KEY,
        enr BLOB NOT NULL,
        live INTEGER NOT NULL DEFAULT 0,
        last_seen INTEGER NOT NULL DEFAULT 0,
        in_table INTEGER NOT NULL DEFAULT 0
      );`,
  },
] as const;

const SQL = {
  getMeta: 'SELECT value FROM meta WHERE key = ?',
  setMeta: 'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  nodes: 'SELECT node_id, enr, live, last_seen, in_table FROM nodes',
  upsert: `INSERT INTO nodes (node_id, enr, live, last_seen, in_table) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (node_id) DO UPDATE SET enr = excluded.enr, live = excluded.live,
      last_seen = excluded.last_seen, in_table = excluded.in_table`,
  remove: 'DELETE FROM nodes WHERE node_id = ?',
  prune: `DELETE FROM nodes WHERE in_table = 0 AND node_id NOT IN (
    SELECT node_id FROM nodes WHERE in_table = 0 ORDER BY last_seen DESC, node_id LIMIT ?)`,
} as const;

export class NodeStore {
  /** The database file. */
  readonly path: string;
  /** The SQLite driver in use. */
  readonly driver: DriverName;
  readonly #db: SqlDatabase;
  readonly #onReport: (report: StoreReport) => void;
  #closed = false;

  private constructor(path: string, db: SqlDatabase, onReport: (report: StoreReport) => void) {
    this.path = path;
    this.driver = db.driver;
    this.#db = db;
    this.#onReport = onReport;
  }

  /**
   * Opens `<dir>/node.db`, creating the directory (0700) and the file (0600) if needed. A corrupt
   * store or one from a newer version is reported, moved aside and replaced by an empty one.
   * Throws ERR_STORE_UNAVAILABLE without a SQLite driver, ERR_STORE when the store cannot be used
   * (e.g. the directory is not writable, or another process has it open).
   */
  static open(dir: string, options: NodeStoreOptions = {}): NodeStore {
    const path = join(dir, NODE_DB_FILE);
    const db = openDatabase(path, { ...options, migrations: NODE_MIGRATIONS, exclusive: true });
    return new NodeStore(path, db, (r) => report(options, r));
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The stored private key, or undefined when none is stored (or the stored value is not 32 bytes: reported). */
  privateKey(): Uint8Array | undefined {
    const value = this.#use(() => this.#db.prepare(SQL.getMeta).get(KEY_PRIVATE_KEY)?.value);
    if (value === undefined || value === null) return undefined;
    if (value instanceof Uint8Array && value.length === PRIVATE_KEY_BYTES) return value;
    this.#invalid('meta', 1, `the stored private key is not ${PRIVATE_KEY_BYTES} bytes; ignored`);
    return undefined;
  }

  /** Stores the private key (32 bytes), committed before this returns. */
  setPrivateKey(key: Uint8Array): void {
    checkBytes(key, 'private key', PRIVATE_KEY_BYTES);
    this.#use(() => this.#db.prepare(SQL.setMeta).run(KEY_PRIVATE_KEY, key));
  }

  /** The seq of the last local record, or undefined when none is stored (or the stored value is unreadable: reported). */
  seq(): bigint | undefined {
    const value = this.#use(() => this.#db.prepare(SQL.getMeta).get(KEY_SEQ)?.value);
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'string' && /^\d{1,20}$/.test(value) && BigInt(value) <= MAX_SEQ) return BigInt(value);
    this.#invalid('meta', 1, 'the stored seq is not an unsigned 64-bit integer; ignored');
    return undefined;
  }

  /** Stores the seq (0 to 2^64-1), committed before this returns. Kept as decimal text: SQLite integers are signed. */
  setSeq(seq: bigint): void {
    if (typeof seq !== 'bigint' || seq < 0n || seq > MAX_SEQ) {
      throw new Discv5Error(ErrorCode.INVALID_ARGUMENT, `seq must be a bigint from 0 to 2^64-1, got ${String(seq)}`);
    }
    this.#use(() => this.#db.prepare(SQL.setMeta).run(KEY_SEQ, seq.toString()));
  }

  /** Every stored node, table entries and known records alike; rows that fail validation are skipped and reported. */
  nodes(): StoredNode[] {
    const rows = this.#use(() => this.#db.prepare(SQL.nodes).all());
    const out: StoredNode[] = [];
    let skipped = 0;
    for (const row of rows) {
      const { node_id: nodeId, enr, live, last_seen: lastSeen, in_table: inTable } = row;
      if (
        nodeId instanceof Uint8Array &&
        nodeId.length === NODE_ID_BYTES &&
        enr instanceof Uint8Array &&
        enr.length > 0 &&
        isFlag(live) &&
        isFlag(inTable) &&
        typeof lastSeen === 'number' &&
        Number.isSafeInteger(lastSeen) &&
        lastSeen >= 0
      ) {
        out.push({ nodeId, enr, live: live === 1, lastSeen, inTable: inTable === 1 });
      } else {
        skipped++;
      }
    }
    if (skipped > 0) this.#invalid('nodes', skipped, `${skipped} rows of nodes are not valid node entries; skipped`);
    return out;
  }

  /**
   * Applies a batch in one transaction: inserts or replaces `upserts` (by node id), then deletes
   * `removals` (node ids). All or nothing: an invalid entry throws before anything is written.
   */
  writeNodes(upserts: readonly StoredNode[], removals: readonly Uint8Array[] = []): void {
    const rows = upserts.map(checkNode);
    for (const id of removals) checkBytes(id, 'node id', NODE_ID_BYTES);
    this.#use(() =>
      this.#db.transaction(() => {
        const upsert = this.#db.prepare(SQL.upsert);
        for (const row of rows) upsert.run(...row);
        const remove = this.#db.prepare(SQL.remove);
        for (const id of removals) remove.run(id);
      }),
    );
  }

  /**
   * Keeps every table entry and at most `maxKnown` other rows, the most recently seen; returns how
   * many rows it deleted.
   */
  prune(maxKnown: number): number {
    if (!Number.isSafeInteger(maxKnown) || maxKnown < 0) {
      throw new Discv5Error(ErrorCode.INVALID_ARGUMENT, `maxKnown must be a non-negative integer, got ${maxKnown}`);
    }
    return this.#use(() => this.#db.transaction(() => this.#db.prepare(SQL.prune).run(maxKnown).changes));
  }

  /** Closes the database (committed writes are already durable); idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#db.close();
    } catch (err) {
      throw new Discv5Error(ErrorCode.STORE, `closing the store ${this.path}: ${messageOf(err)}`, { cause: err });
    }
  }

  /** Runs a database operation, turning driver errors into ERR_STORE. */
  #use<T>(fn: () => T): T {
    if (this.#closed) throw new Discv5Error(ErrorCode.STORE, `the store ${this.path} is closed`);
    try {
      return fn();
    } catch (err) {
      if (err instanceof Discv5Error) throw err;
      throw new Discv5Error(ErrorCode.STORE, `the store ${this.path}: ${messageOf(err)}`, { cause: err });
    }
  }

  #invalid(table: string, count: number, detail: string): void {
    this.#onReport({ kind: 'invalid-rows', path: this.path, table, count, detail });
  }
}

function isFlag(value: SqlValue | undefined): value is 0 | 1 {
  return value === 0 || value === 1;
}

function checkBytes(value: unknown, name: string, length: number): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new Discv5Error(ErrorCode.INVALID_TYPE, `${name} must be a Uint8Array`);
  if (value.length !== length) {
    throw new Discv5Error(ErrorCode.INVALID_LENGTH, `${name} must be ${length} bytes, got ${value.length}`);
  }
}

function checkNode(node: StoredNode): SqlValue[] {
  checkBytes(node.nodeId, 'node id', NODE_ID_BYTES);
  if (!(node.enr instanceof Uint8Array) || node.enr.length === 0) {
    throw new Discv5Error(ErrorCode.INVALID_TYPE, 'enr must be the record as a non-empty Uint8Array');
  }
  if (!Number.isSafeInteger(node.lastSeen) || node.lastSeen < 0) {
    throw new Discv5Error(
      ErrorCode.INVALID_ARGUMENT,
      `lastSeen must be ms since the epoch (0 = never), got ${node.lastSeen}`,
    );
  }
  return [node.nodeId, node.enr, node.live ? 1 : 0, node.lastSeen, node.inTable ? 1 : 0];
}
