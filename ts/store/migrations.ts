/**
 * Versioned schema migrations. A schema is a list of SQL steps numbered 1, 2, 3...; the database
 * records the last one applied in `PRAGMA user_version` (a header field: no table to corrupt or
 * forget). Opening applies the missing steps in order, each in its own transaction together with
 * the new user_version, so a crash between steps leaves a database at a well-defined version. A
 * database whose version is above the newest step known was written by a newer release: that is
 * reported to the caller as "newer-schema" rather than guessed at.
 */
import { Discv5Error, ErrorCode } from '../util/errors.js';
import type { SqlDatabase } from './sqlite.js';

export interface Migration {
  /** 1 for the first step, then consecutive. */
  version: number;
  /** The SQL of the step (may hold several statements). */
  up: string;
}

export type MigrationResult = { ok: true; from: number; to: number } | { ok: false; found: number; newest: number };

/** Throws ERR_INVALID_ARGUMENT unless versions are 1, 2, 3... in order: a gap would be a silent schema hole. */
export function checkMigrations(migrations: readonly Migration[]): number {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new Discv5Error(
        ErrorCode.INVALID_ARGUMENT,
        `migration ${i} has version ${m.version}, expected ${i + 1} (versions start at 1 and are consecutive)`,
      );
    }
  });
  return migrations.length;
}

export function schemaVersion(db: SqlDatabase): number {
  const row = db.prepare('PRAGMA user_version').get();
  return Number(row?.user_version ?? 0);
}

/**
 * Brings the database to the newest version, or says it is newer than that (without touching it).
 * The version is read again inside each step's transaction (which holds the write lock from its
 * start): another process opening the same file at the same moment (a report opened while a crawl
 * starts) may have applied the step meanwhile, and applying it twice would fail.
 */
export function migrate(db: SqlDatabase, migrations: readonly Migration[]): MigrationResult {
  const newest = checkMigrations(migrations);
  const from = schemaVersion(db);
  if (from > newest) return { ok: false, found: from, newest };
  for (;;) {
    const found = db.transaction(() => {
      const version = schemaVersion(db);
      const m = migrations[version];
      if (version >= newest || m === undefined) return version;
      db.exec(m.up);
      // PRAGMA takes no bound parameters; m.version is a checked integer.
      db.exec(`PRAGMA user_version = ${m.version}`);
      return m.version;
    });
    if (found > newest) return { ok: false, found, newest };
    if (found === newest) return { ok: true, from, to: newest };
  }
}
