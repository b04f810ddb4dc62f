/**
 * The SQLite store (ts/store): the node's store round-trips what it is given, keeps its file private,
 * migrates, moves corrupt or newer stores aside instead of crashing, survives kill -9 with every
 * committed batch, and picks the SQLite driver this Node.js has.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import { type Migration, migrate } from '../ts/store/migrations.js';
import { NODE_MIGRATIONS, NodeStore, type StoredNode } from '../ts/store/node-store.js';
import { openDatabase } from '../ts/store/open.js';
import { type DriverLoaders, defaultLoaders, type SqlDatabase, selectDriver } from '../ts/store/sqlite.js';
import type { StoreReport } from '../ts/store/types.js';
import { Discv5Error, ErrorCode } from '../ts/util/errors.js';
import { batchNode, NODES_PER_BATCH } from './helpers/store-writer.js';

const here = dirname(fileURLToPath(import.meta.url));

/** A fresh temporary directory, removed when the test ends (pass or fail). */
function tempDir(t: ExecutionContext): string {
  const dir = fs.mkdtempSync(join(os.tmpdir(), 'discv5-store-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function node(byte: number, extra: Partial<StoredNode> = {}): StoredNode {
  return {
    nodeId: new Uint8Array(32).fill(byte),
    enr: new Uint8Array(120).fill(byte ^ 0x5a),
    live: true,
    lastSeen: 1_700_000_000_000 + byte,
    inTable: true,
    ...extra,
  };
}

const byId = (a: StoredNode, b: StoredNode) => Buffer.compare(a.nodeId, b.nodeId);

/** The store's file opened directly (no recovery, no migrations), for what NodeStore does not expose. */
function raw(path: string): SqlDatabase {
  return selectDriver().open(path);
}

function userVersion(path: string): number {
  const db = raw(path);
  try {
    return Number(db.prepare('PRAGMA user_version').get()?.user_version);
  } finally {
    db.close();
  }
}

/** Whether this Node.js has node:sqlite without a flag (22.13 and later). */
function hasNodeSqlite(): boolean {
  try {
    return process.getBuiltinModule?.('node:sqlite') !== undefined;
  } catch {
    return false;
  }
}

/**
 * Whether better-sqlite3 (a dev dependency) works in this Node.js: its addon is compiled for the
 * Node.js that installed it, so under another major (CI runs this spec on Node 26 too) it may not load.
 */
function hasBetterSqlite3(): boolean {
  try {
    const Database = createRequire(import.meta.url)('better-sqlite3') as new (path: string) => { close(): void };
    new Database(':memory:').close();
    return true;
  } catch {
    return false;
  }
}

/** Every driver this Node.js can use. */
const drivers = () =>
  (['node:sqlite', 'better-sqlite3'] as const).filter((d) =>
    d === 'node:sqlite' ? hasNodeSqlite() : hasBetterSqlite3(),
  );

test('the adapter gives the same values and transactions on every driver', (t) => {
  const dir = tempDir(t);
  for (const name of drivers()) {
    const db = selectDriver(name).open(join(dir, `${name.replace(':', '-')}.db`));
    t.is(db.driver, name);
    db.exec('CREATE TABLE t (k INTEGER PRIMARY KEY, v)');
    const insert = db.prepare('INSERT INTO t (k, v) VALUES (?, ?)');
    t.is(db.prepare('INSERT INTO t (k, v) VALUES (?, ?)'), insert, 'statements are cached by their SQL');
    insert.run(1, Buffer.from([1, 2]));
    insert.run(2, 2n ** 62n + 1n);
    insert.run(3, 'text');
    insert.run(4, null);
    insert.run(5, -7);
    t.deepEqual(
      db.prepare('SELECT v FROM t ORDER BY k').all(),
      [{ v: Uint8Array.of(1, 2) }, { v: 2n ** 62n + 1n }, { v: 'text' }, { v: null }, { v: -7 }],
      `${name}: a BLOB is a plain Uint8Array, an integer a number unless past 2^53`,
    );
    t.throws(() =>
      db.transaction(() => {
        insert.run(6, 6);
        throw new Error('rolled back');
      }),
    );
    db.transaction(() => {
      insert.run(7, 7);
      t.throws(() =>
        db.transaction(() => {
          insert.run(8, 8);
          throw new Error('only the inner part');
        }),
      );
    });
    t.throws(() => db.transaction(() => Promise.resolve()), { instanceOf: TypeError });
    t.deepEqual(
      db.prepare('SELECT k FROM t WHERE k > 5').all(),
      [{ k: 7 }],
      `${name}: a failed transaction or savepoint leaves nothing`,
    );
    db.close();
    db.close();
  }
});

test('key, seq and nodes round-trip, through updates, removals and a reopen', (t) => {
  const dir = tempDir(t);
  const reports: StoreReport[] = [];
  const store = NodeStore.open(dir, { onReport: (r) => reports.push(r) });
  t.is(store.path, join(dir, 'node.db'));
  t.is(store.privateKey(), undefined, 'a new store has no key');
  t.is(store.seq(), undefined);
  t.deepEqual(store.nodes(), []);

  const key = Uint8Array.from(randomBytes(32));
  const bigSeq = 2n ** 53n + 3n; // not representable as a number: must not be rounded
  store.setPrivateKey(key);
  store.setSeq(bigSeq);
  store.writeNodes([node(1), node(2), node(3, { live: false, inTable: false, lastSeen: 0 })]);
  store.writeNodes([node(2, { enr: Uint8Array.of(0xc1, 0x80), live: false })], [node(1).nodeId]);
  t.deepEqual(store.privateKey(), key);
  t.is(store.seq(), bigSeq);
  store.close();
  store.close(); // idempotent
  t.true(store.closed);

  const again = NodeStore.open(dir, { onReport: (r) => reports.push(r) });
  t.deepEqual(again.privateKey(), key);
  t.is(again.seq(), bigSeq);
  t.deepEqual(again.nodes().sort(byId), [
    node(2, { enr: Uint8Array.of(0xc1, 0x80), live: false }),
    node(3, { live: false, inTable: false, lastSeen: 0 }),
  ]);
  again.setSeq(2n ** 64n - 1n);
  t.is(again.seq(), 2n ** 64n - 1n, 'the largest uint64');
  t.deepEqual(reports, []);
  again.close();
});

test('invalid arguments throw before anything is written; a closed store throws ERR_STORE', (t) => {
  const store = NodeStore.open(tempDir(t));
  const code = (fn: () => unknown) => (t.throws(fn, { instanceOf: Discv5Error }) as Discv5Error | undefined)?.code;
  const cases: [string, () => unknown, ErrorCode][] = [
    ['a 31-byte key', () => store.setPrivateKey(new Uint8Array(31)), ErrorCode.INVALID_LENGTH],
    ['a negative seq', () => store.setSeq(-1n), ErrorCode.INVALID_ARGUMENT],
    ['a seq of 2^64', () => store.setSeq(2n ** 64n), ErrorCode.INVALID_ARGUMENT],
    [
      'a 20-byte id',
      () => store.writeNodes([node(1), node(2, { nodeId: new Uint8Array(20) })]),
      ErrorCode.INVALID_LENGTH,
    ],
    ['a fractional lastSeen', () => store.writeNodes([node(1, { lastSeen: 1.5 })]), ErrorCode.INVALID_ARGUMENT],
    ['a 3-byte removal', () => store.writeNodes([node(1)], [new Uint8Array(3)]), ErrorCode.INVALID_LENGTH],
  ];
  for (const [name, fn, expected] of cases) t.is(code(fn), expected, name);
  t.deepEqual(store.nodes(), [], 'a batch with one bad entry writes nothing');
  store.close();
  t.is(
    code(() => store.setSeq(1n)),
    ErrorCode.STORE,
  );
  t.is(
    code(() => store.nodes()),
    ErrorCode.STORE,
  );
});

test('prune keeps every table entry and the most recently seen known records', (t) => {
  const store = NodeStore.open(tempDir(t));
  store.writeNodes([
    node(1, { inTable: true, lastSeen: 1 }),
    node(2, { inTable: false, lastSeen: 50 }),
    node(3, { inTable: false, lastSeen: 10 }),
    node(4, { inTable: false, lastSeen: 40 }),
    node(5, { inTable: true, lastSeen: 0 }),
  ]);
  t.is(store.prune(2), 1);
  t.deepEqual(
    store
      .nodes()
      .map((n) => n.nodeId[0])
      .sort(),
    [1, 2, 4, 5],
  );
  t.is(store.prune(0), 2);
  t.deepEqual(
    store
      .nodes()
      .map((n) => n.nodeId[0])
      .sort(),
    [1, 5],
  );
  store.close();
});

test('rows that cannot be what the store wrote are skipped and reported, not returned', (t) => {
  const dir = tempDir(t);
  const store = NodeStore.open(dir);
  store.setPrivateKey(new Uint8Array(32).fill(7));
  store.writeNodes([node(1), node(2)]);
  store.close();
  const db = raw(join(dir, 'node.db'));
  db.prepare("UPDATE meta SET value = ? WHERE key = 'private_key'").run(new Uint8Array(31));
  db.prepare('INSERT INTO nodes (node_id, enr, live, last_seen, in_table) VALUES (?, ?, 1, 5, 1)').run(
    new Uint8Array(33),
    Uint8Array.of(1),
  );
  db.prepare('INSERT INTO nodes (node_id, enr, live, last_seen, in_table) VALUES (?, ?, 1, 5, 1)').run(
    new Uint8Array(32).fill(9),
    'not bytes',
  );
  db.prepare("INSERT INTO meta (key, value) VALUES ('enr_seq', 'x1')").run();
  db.close();

  const reports: StoreReport[] = [];
  const again = NodeStore.open(dir, { onReport: (r) => reports.push(r) });
  t.is(again.privateKey(), undefined);
  t.is(again.seq(), undefined);
  t.deepEqual(again.nodes().sort(byId), [node(1), node(2)]);
  t.deepEqual(
    reports.map((r) => [r.kind, 'table' in r ? r.table : '', 'count' in r ? r.count : 0]),
    [
      ['invalid-rows', 'meta', 1],
      ['invalid-rows', 'meta', 1],
      ['invalid-rows', 'nodes', 2],
    ],
  );
  again.close();
});

test('the file is 0600 from the start, in a directory created 0700; an existing file is made 0600', (t) => {
  const dir = join(tempDir(t), 'data', 'nested');
  const store = NodeStore.open(dir);
  store.setPrivateKey(new Uint8Array(32).fill(1));
  const mode = (p: string) => fs.statSync(p).mode & 0o777;
  t.is(mode(dir), 0o700);
  t.is(mode(store.path), 0o600);
  t.is(mode(`${store.path}-wal`), 0o600, 'SQLite gives the log the mode of the database');
  store.close();
  fs.chmodSync(store.path, 0o644);
  NodeStore.open(dir).close();
  t.is(mode(store.path), 0o600);
});

test('a second open of a store in use fails with ERR_STORE and leaves the first working', (t) => {
  const dir = tempDir(t);
  const first = NodeStore.open(dir); // the lock is taken at open, not at the first write
  const reports: StoreReport[] = [];
  const err = t.throws(() => NodeStore.open(dir, { busyTimeoutMs: 50, onReport: (r) => reports.push(r) }), {
    instanceOf: Discv5Error,
  });
  t.is(err?.code, ErrorCode.STORE);
  t.regex(err?.message ?? '', /in use/);
  t.deepEqual(reports, [], 'a busy store is not corrupt');
  first.setSeq(6n);
  t.is(first.seq(), 6n);
  first.close();
  t.deepEqual(fs.readdirSync(dir).sort(), ['node.db']);
});

test('an unusable directory fails with ERR_STORE', (t) => {
  const file = join(tempDir(t), 'a-file');
  fs.writeFileSync(file, 'x');
  const err = t.throws(() => NodeStore.open(join(file, 'sub')), { instanceOf: Discv5Error });
  t.is(err?.code, ErrorCode.STORE);
});

test('a fresh store is at the newest schema; later steps are applied in order, a failing one rolls back', (t) => {
  const dir = tempDir(t);
  const store = NodeStore.open(dir);
  store.close();
  t.is(userVersion(store.path), NODE_MIGRATIONS.length);

  const path = join(dir, 'generic.db');
  const steps: Migration[] = [
    { version: 1, up: 'CREATE TABLE a (x INTEGER)' },
    { version: 2, up: 'INSERT INTO a VALUES (2)' },
  ];
  openDatabase(path, { migrations: steps }).close();
  t.is(userVersion(path), 2);
  const bad = [...steps, { version: 3, up: 'INSERT INTO a VALUES (3); INSERT INTO nowhere VALUES (1)' }];
  const err = t.throws(() => openDatabase(path, { migrations: bad }), { instanceOf: Discv5Error });
  t.is(err?.code, ErrorCode.STORE);
  const db = openDatabase(path, { migrations: steps });
  t.deepEqual(db.prepare('SELECT x FROM a').all(), [{ x: 2 }], 'step 3 left nothing behind');
  t.is(migrate(db, steps).ok, true);
  db.close();
  t.is(userVersion(path), 2);
  t.is(
    (t.throws(() => openDatabase(path, { migrations: [steps[1] as Migration] })) as Discv5Error | undefined)?.code,
    ErrorCode.INVALID_ARGUMENT,
    'versions must start at 1 with no gap',
  );
});

test('two processes opening one fresh file at once apply each step once (the version is read again under the lock)', (t) => {
  const path = join(tempDir(t), 'raced.db');
  const steps: Migration[] = [
    { version: 1, up: 'CREATE TABLE a (x INTEGER)' },
    { version: 2, up: 'INSERT INTO a VALUES (2)' },
  ];
  const db = openDatabase(path, { migrations: steps.slice(0, 1) });
  // This connection read version 0 before another process applied step 1: its first read is stale.
  let stale = true;
  const racing: SqlDatabase = {
    driver: db.driver,
    exec: (sql) => db.exec(sql),
    prepare: (sql) => {
      if (stale && sql === 'PRAGMA user_version') {
        stale = false;
        return { get: () => ({ user_version: 0 }), all: () => [{ user_version: 0 }], run: () => ({ changes: 0 }) };
      }
      return db.prepare(sql);
    },
    transaction: (fn) => db.transaction(fn),
    close: () => db.close(),
  };
  t.deepEqual(migrate(racing, steps), { ok: true, from: 0, to: 2 });
  t.deepEqual(db.prepare('SELECT x FROM a').all(), [{ x: 2 }], 'step 1 not applied twice, step 2 once');
  db.close();
  t.is(userVersion(path), 2);
});

test('a store from a newer schema is reported and moved aside, and a fresh one works', (t) => {
  const dir = tempDir(t);
  const old = NodeStore.open(dir);
  old.setPrivateKey(new Uint8Array(32).fill(3));
  old.close();
  const db = raw(old.path);
  db.exec('PRAGMA user_version = 99');
  db.close();

  const reports: StoreReport[] = [];
  const store = NodeStore.open(dir, { onReport: (r) => reports.push(r) });
  t.is(reports.length, 1);
  const report = reports[0];
  if (report?.kind !== 'newer-schema') return t.fail(`expected newer-schema, got ${JSON.stringify(report)}`);
  t.is(report.path, store.path);
  t.regex(report.movedTo, /node\.db\.newer-schema-/);
  t.regex(report.detail, /99/);
  t.is(store.privateKey(), undefined, 'the fresh store is empty');
  store.setSeq(1n);
  store.close();
  t.is(userVersion(store.path), NODE_MIGRATIONS.length);
  t.is(userVersion(report.movedTo), 99, 'the newer store is kept intact for an upgrade');
  t.is(fs.statSync(report.movedTo).mode & 0o777, 0o600);
});

for (const [name, damage] of [
  ['a file of random garbage', (path: string) => fs.writeFileSync(path, randomBytes(16_384))],
  [
    'a real store whose middle pages are overwritten',
    (path: string) => {
      const fd = fs.openSync(path, 'r+');
      fs.writeSync(fd, randomBytes(20 * 4096), 0, 20 * 4096, 10 * 4096);
      fs.closeSync(fd);
    },
  ],
] as const) {
  test(`corrupt store (${name}): reported, moved aside with its bytes, replaced by an empty one`, (t) => {
    const dir = tempDir(t);
    const old = NodeStore.open(dir);
    old.setPrivateKey(new Uint8Array(32).fill(4));
    old.writeNodes(Array.from({ length: 1000 }, (_, i) => batchNode(i, 0)));
    old.close();
    t.true(fs.statSync(old.path).size > 40 * 4096, 'the rows fill the pages that get overwritten');
    damage(old.path);
    const damaged = fs.readFileSync(old.path);

    const reports: StoreReport[] = [];
    const store = NodeStore.open(dir, { onReport: (r) => reports.push(r) });
    t.is(reports.length, 1);
    const report = reports[0];
    if (report?.kind !== 'corrupt') return t.fail(`expected corrupt, got ${JSON.stringify(report)}`);
    t.is(report.path, store.path);
    t.true(fs.readFileSync(report.movedTo).equals(damaged), 'the damaged file is kept as it was');
    t.is(store.privateKey(), undefined);
    t.deepEqual(store.nodes(), []);
    store.writeNodes([node(1)]);
    store.close();
    const reopened = NodeStore.open(dir);
    t.deepEqual(reopened.nodes(), [node(1)]);
    reopened.close();
    t.deepEqual(
      fs.readdirSync(dir).filter((f) => f.includes('corrupt')),
      [report.movedTo.slice(dir.length + 1)],
    );
  });
}

/** Lines the child prints, resolved once `want` have arrived; all of them (and its exit) after it ends. */
function readLines(child: ChildProcess, want: number) {
  const lines: string[] = [];
  let partial = '';
  let reached: () => void = () => {};
  const enough = new Promise<void>((ok, fail) => {
    reached = ok;
    child.on('exit', (code, signal) => fail(new Error(`writer ended early (${code ?? signal})`)));
  });
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
    if (lines.length >= want) reached();
  });
  const closed = new Promise<{ lines: string[]; signal: string | null }>((ok) =>
    child.on('close', (_code, signal) => ok({ lines, signal })),
  );
  return { enough, closed };
}

test('kill -9 while writing: the store opens clean with every batch reported committed', async (t) => {
  const dir = tempDir(t);
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(here, 'helpers/store-writer.ts'), dir], {
    cwd: resolve(here, '..'),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  t.teardown(() => child.kill('SIGKILL'));
  const { enough, closed } = readLines(child, 300);
  await enough.catch((err: Error) => t.fail(`${err.message}: ${stderr}`));
  child.kill('SIGKILL');
  const { lines, signal } = await closed;
  t.is(signal, 'SIGKILL', 'killed while writing, not ended by itself');
  const printed = lines.map(Number);
  t.deepEqual(
    printed,
    printed.map((_, i) => i + 1),
    'batches commit in order',
  );
  const last = printed.length;

  const reports: StoreReport[] = [];
  const store = NodeStore.open(dir, { onReport: (r) => reports.push(r) });
  t.deepEqual(reports, [], 'not reported, not moved aside');
  t.deepEqual(
    fs.readdirSync(dir).filter((f) => !/^node\.db(-wal|-shm)?$/.test(f)),
    [],
  );
  const seq = store.seq() ?? 0n;
  t.true(seq === BigInt(last) || seq === BigInt(last + 1), `seq ${seq} after ${last} printed batches`);
  const stored = new Map<string, StoredNode>(store.nodes().map((n) => [Buffer.from(n.nodeId).toString('hex'), n]));
  for (let i = 1; i <= last; i++) {
    for (let j = 0; j < NODES_PER_BATCH; j++) {
      const want = batchNode(i, j);
      if (!t.deepEqual(stored.get(Buffer.from(want.nodeId).toString('hex')), want, `batch ${i} node ${j}`)) break;
    }
  }
  const after = stored.size - last * NODES_PER_BATCH;
  t.true(after === 0 || after === NODES_PER_BATCH, `a batch is all or nothing (${after} rows beyond the printed ones)`);
  store.close();

  const db = openDatabase(store.path, { migrations: NODE_MIGRATIONS });
  t.deepEqual(db.prepare('PRAGMA integrity_check').all(), [{ integrity_check: 'ok' }]);
  db.close();
});

test('without node:sqlite or better-sqlite3, opening a store throws ERR_STORE_UNAVAILABLE saying what to install', (t) => {
  const none: DriverLoaders = {
    nodeSqlite: () => undefined,
    betterSqlite3: () => {
      throw new Error("Cannot find module 'better-sqlite3'");
    },
  };
  const err = t.throws(() => NodeStore.open(tempDir(t), { loaders: none }), { instanceOf: Discv5Error });
  t.is(err?.code, ErrorCode.STORE_UNAVAILABLE);
  t.regex(err?.message ?? '', /better-sqlite3/);
  t.regex(err?.message ?? '', /22\.13/);
  const forced = t.throws(() =>
    selectDriver('better-sqlite3', { ...defaultLoaders, betterSqlite3: none.betterSqlite3 }),
  );
  t.is((forced as Discv5Error | undefined)?.code, ErrorCode.STORE_UNAVAILABLE);
});

test('the default driver is node:sqlite where this Node.js has it, else better-sqlite3; either can be forced', (t) => {
  t.true(drivers().length > 0, 'this spec needs a driver: node:sqlite (Node >= 22.13) or better-sqlite3');
  const expected = hasNodeSqlite() ? 'node:sqlite' : 'better-sqlite3';
  const dir = tempDir(t);
  const store = NodeStore.open(dir);
  t.is(store.driver, expected, `Node.js ${process.versions.node}`);
  store.setSeq(9n);
  store.close();

  for (const name of ['node:sqlite', 'better-sqlite3'] as const) {
    if (drivers().includes(name)) {
      const forced = NodeStore.open(dir, { driver: name });
      t.is(forced.driver, name);
      t.is(forced.seq(), 9n, `${name} reads what the default driver wrote`);
      forced.close();
    } else {
      const err = t.throws(() => NodeStore.open(dir, { driver: name }), { instanceOf: Discv5Error });
      t.is(err?.code, ErrorCode.STORE_UNAVAILABLE, `${name} is not usable in Node.js ${process.versions.node}`);
    }
  }
  if (hasBetterSqlite3()) {
    t.is(selectDriver(undefined, { ...defaultLoaders, nodeSqlite: () => undefined }).name, 'better-sqlite3');
  }
});

test('a better-sqlite3 whose addon does not load counts as unavailable, with a hint to rebuild it', (t) => {
  const err = t.throws(
    () =>
      selectDriver(undefined, {
        nodeSqlite: () => undefined,
        betterSqlite3: () =>
          class {
            constructor() {
              throw new Error('Module did not self-register');
            }
          } as never,
      }),
    { instanceOf: Discv5Error },
  );
  t.is(err?.code, ErrorCode.STORE_UNAVAILABLE);
  t.regex(err?.message ?? '', /self-register.*npm rebuild better-sqlite3/);
});
