/**
 * helpers/postgres.ts: the throwaway PostgreSQL server that PostgreSQL specs start for themselves
 * works with the `pg` client, gives separate databases, and leaves nothing behind: not after stop(),
 * nor when its process ends without stop(), normally, by SIGTERM (how ava ends a worker that timed
 * out) or by SIGKILL.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import process from 'node:process';
import test, { type ExecutionContext } from 'ava';
import pg from 'pg';
import { POSTGRES_HOST, type PostgresServer, startPostgres } from './helpers/postgres.js';

let server: PostgresServer;

test.before(async () => {
  server = await startPostgres();
});

test.after.always(async () => {
  await server?.stop();
});

async function client(t: ExecutionContext, url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000, query_timeout: 10_000 });
  await c.connect();
  t.teardown(() => c.end());
  return c;
}

/** Whether a TCP connection to the port is refused (nothing listens there). */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: POSTGRES_HOST, port, timeout: 5_000 });
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.once('connect', () => done(false));
    socket.once('timeout', () => done(false));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code === 'ECONNREFUSED'));
  });
}

/** Refused within the deadline (a watchdog stops the server a moment after its process ended). */
async function refusedWithin(port: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!(await refused(port))) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return true;
}

test('a row written through pg reads back', async (t) => {
  const db = await client(t, await server.createDatabase());
  await db.query('CREATE TABLE nodes (id bytea PRIMARY KEY, seq bigint NOT NULL, ip text)');
  const id = Buffer.from('00ff'.repeat(16), 'hex');
  await db.query('INSERT INTO nodes VALUES ($1, $2, $3)', [id, '9223372036854775807', '127.0.0.1']);
  const { rows } = await db.query('SELECT id, seq::text AS seq, ip FROM nodes');
  t.deepEqual(rows, [{ id, seq: '9223372036854775807', ip: '127.0.0.1' }]);
  t.regex(server.url, /^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
});

test('two databases on one server are separate', async (t) => {
  const [urlA, urlB] = await Promise.all([server.createDatabase('separate_a'), server.createDatabase('separate_b')]);
  t.is(urlB, server.urlFor('separate_b'));
  const [a, b] = await Promise.all([client(t, urlA), client(t, urlB)]);
  await a.query('CREATE TABLE t (x int)');
  await a.query('INSERT INTO t VALUES (1), (2)');
  await b.query('CREATE TABLE t (x int)'); // no clash: a different database
  t.is((await a.query('SELECT count(*)::int AS n FROM t')).rows[0].n, 2);
  t.is((await b.query('SELECT count(*)::int AS n FROM t')).rows[0].n, 0);
  t.is((await b.query('SELECT current_database() AS d')).rows[0].d, 'separate_b');
  await t.throwsAsync(server.createDatabase('separate_a'), { message: /already exists/ });
  await t.throwsAsync(server.createDatabase('Bad-Name'), { message: /not a plain database name/ });
});

test('stop() leaves nothing listening and removes its dir', async (t) => {
  const own = await startPostgres();
  t.teardown(() => own.stop());
  t.not(own.port, server.port);
  const c = new pg.Client({ connectionString: own.url, connectionTimeoutMillis: 10_000 });
  await c.connect();
  await c.end();
  await own.stop();
  t.true(await refused(own.port));
  t.false(existsSync(own.dir));
  await own.stop(); // a second stop is a no-op
  await t.throwsAsync(new pg.Client({ connectionString: own.url, connectionTimeoutMillis: 5_000 }).connect(), {
    code: 'ECONNREFUSED',
  });
});

// A child starts a server, prints its port and dir, then ends without stop().
const CHILD = `
import { startPostgres } from './__test__/helpers/postgres.ts';
const server = await startPostgres();
process.stdout.write(server.port + ' ' + server.dir + '\\n', () => {
  if (process.argv[1] === 'exit') return; // ends normally: nothing else keeps the event loop alive
  setTimeout(() => {}, 30_000);
  process.kill(process.pid, process.argv[1]);
});
`;

for (const ending of ['exit', 'SIGTERM', 'SIGKILL'] as const) {
  test(`a process that ends without stop() (${ending}) leaves no server behind`, async (t) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD, ending], {
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: 60_000,
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk;
    });
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
      child.once('close', (c, s) => resolve([c, s])),
    );
    t.deepEqual([code, signal], ending === 'exit' ? [0, null] : [null, ending]);
    const [port, dir] = out.trim().split(' ');
    t.true(await refusedWithin(Number(port), 10_000), `port ${port} still open`);
    const deadline = Date.now() + 10_000;
    while (existsSync(dir as string) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    t.false(existsSync(dir as string), `${dir} still there`);
  });
}
