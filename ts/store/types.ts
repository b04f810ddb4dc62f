/** Types shared by the generic store layer (adapter, open-with-recovery, migrations) and its schemas. */
import type { DriverLoaders, DriverName } from './sqlite.js';

/**
 * Something the store did that its owner should log: never silent, never fatal.
 * - `corrupt`: the file failed its integrity check or is not an SQLite database; it (with its
 *   -wal/-shm) was renamed to `movedTo` and a fresh store was created in its place;
 * - `newer-schema`: the file was written by a newer version of this library (its schema version is
 *   above any this one knows); moved aside the same way, so a downgrade neither crashes nor
 *   misreads it, and an upgrade can rename it back;
 * - `invalid-rows`: rows that cannot be what this version wrote (e.g. a node id that is not 32
 *   bytes) were skipped on reading; `count` says how many.
 */
export type StoreReport =
  | { kind: 'corrupt' | 'newer-schema'; path: string; movedTo: string; detail: string }
  | { kind: 'invalid-rows'; path: string; table: string; count: number; detail: string };

/** Options common to every store opened through openDatabase. */
export interface StoreOptions {
  /** Called for each StoreReport; when absent, reports go to `process.emitWarning`. Exceptions it throws are ignored. */
  onReport?: (report: StoreReport) => void;
  /** Force one SQLite driver; by default `node:sqlite` where it exists, else better-sqlite3. */
  driver?: DriverName;
  /** How long to wait for a lock held by another connection before failing with ERR_STORE. Default 5000 ms. */
  busyTimeoutMs?: number;
  /** @internal How drivers are loaded: tests simulate a missing driver with their own. */
  loaders?: DriverLoaders;
}
