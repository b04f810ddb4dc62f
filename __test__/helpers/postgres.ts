/**
 * A throwaway PostgreSQL server for specs that need a real one: `startPostgres()` runs initdb into a
 * temp dir and starts the server with pg_ctl on 127.0.0.1 at a free ephemeral port (trust auth,
 * superuser `postgres`, fsync off: fast and disposable); `createDatabase()` gives each spec (or test)
 * a database of its own; `stop()` stops the server at once and removes the dir.
 *
 * The server binaries come from /usr/lib/postgresql/<highest version>/bin (Debian's layout) or PATH.
 * If they are missing and we are root, Debian's postgresql-15 is installed with apt-get, once for all
 * ava workers (a lock file serialises them); otherwise the error says what to install. As root, the
 * server runs as the OS user `postgres` (PostgreSQL refuses to run as root).
 *
 * Nothing is left behind when a worker ends: a process 'exit' handler stops every live server
 * synchronously; SIGTERM (how ava ends a worker that timed out), SIGINT and SIGHUP do the same and
 * then end the process as the signal would have; a small watchdog shell, holding a pipe from this
 * process, stops the server and removes its dir when the pipe closes, i.e. even after a SIGKILL.
 */
import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import process from 'node:process';
import pg from 'pg';
import {
  childEnv,
  describeRun,
  ensureDebianPackage,
  isExecutable,
  isRoot,
  runCommand,
  spawnWatchdog,
} from './debian.js';

export const POSTGRES_HOST = '127.0.0.1';
export const POSTGRES_USER = 'postgres';
/** The package that provides the server binaries on Debian 12. */
export const DEBIAN_PACKAGE = 'postgresql-15';
const INSTALL_HINT =
  `install the PostgreSQL server binaries (initdb, pg_ctl): on Debian 12, as root, ` +
  `\`apt-get update && apt-get install -y --no-install-recommends ${DEBIAN_PACKAGE}\``;

export interface PostgresServer {
  readonly port: number;
  /** The temp dir: data/, the socket, server.log; removed by stop(). */
  readonly dir: string;
  /** URL of the server's `postgres` database, for the `pg` client. */
  readonly url: string;
  /** URL of database `name` on this server (which need not exist yet). */
  urlFor(name: string): string;
  /** Creates a fresh database (named `name`, or a unique name) and returns its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Stops the server at once (`pg_ctl stop -m immediate`) and removes its dir; idempotent. */
  stop(): Promise<void>;
}

/** The dir holding initdb and pg_ctl: /usr/lib/postgresql/<highest version>/bin, else from PATH. */
export function findServerBinaries(): string | undefined {
  const has = (dir: string) => ['initdb', 'pg_ctl'].every((b) => isExecutable(join(dir, b)));
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+(\.\d+)?$/.test(v)) : [];
  versions.sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
  for (const v of versions) if (has(join(root, v, 'bin'))) return join(root, v, 'bin');
  return (process.env.PATH ?? '').split(delimiter).find((dir) => dir !== '' && has(dir));
}

/** As root: the user the server runs as (postgres, else nobody), with its uid/gid. */
function serverUser(): { name: string; uid: number; gid: number } | undefined {
  if (!isRoot) return undefined;
  const passwd = readFileSync('/etc/passwd', 'utf8').split('\n');
  for (const name of [POSTGRES_USER, 'nobody']) {
    const fields = passwd.find((l) => l.startsWith(`${name}:`))?.split(':');
    if (fields) return { name, uid: Number(fields[2]), gid: Number(fields[3]) };
  }
  throw new Error('running as root, but there is no OS user `postgres` (nor `nobody`) to run the server as');
}

/** argv prefixed so that it runs as `user` (as root) or as ourselves. */
function asUser(user: string | undefined, argv: string[]): string[] {
  if (user === undefined) return argv;
  const runuser = ['/usr/sbin/runuser', '/sbin/runuser'].find(isExecutable);
  if (runuser) return [runuser, '-u', user, '--', ...argv];
  return ['su', '-s', '/bin/sh', user, '-c', 'exec "$0" "$@"', ...argv];
}

/** Server binaries, installed with apt-get first if they are missing and we are root. */
function ensureServerBinaries(): Promise<string> {
  return ensureDebianPackage({
    pkg: DEBIAN_PACKAGE,
    find: findServerBinaries,
    what: 'PostgreSQL specs',
    binaries: 'initdb/pg_ctl',
    where: 'in /usr/lib/postgresql/*/bin nor in PATH',
    hint: INSTALL_HINT,
    helper: 'postgres',
    prepare() {
      // Debian would create and start a cluster `main` on port 5432: not wanted, specs start their own.
      mkdirSync('/etc/postgresql-common/createcluster.d', { recursive: true });
      writeFileSync('/etc/postgresql-common/createcluster.d/discv5-native.conf', 'create_main_cluster = false\n');
    },
    stepTimeoutMs: 600_000,
    lockTimeoutMs: 15 * 60_000,
  });
}

/** A port free on 127.0.0.1 a moment ago (the kernel's pick for port 0). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, POSTGRES_HOST, () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

interface Live {
  stopSync(): void;
}
const live = new Set<Live>();
const SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];

function stopAllSync(): void {
  for (const server of [...live]) server.stopSync();
}

function onSignal(signal: NodeJS.Signals): void {
  stopAllSync();
  // End the process as the signal would have, unless someone else has taken the signal on.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function track(server: Live): void {
  if (live.size === 0) {
    process.on('exit', stopAllSync);
    for (const s of SIGNALS) process.on(s, onSignal);
  }
  live.add(server);
}

function untrack(server: Live): void {
  live.delete(server);
  if (live.size === 0) {
    process.off('exit', stopAllSync);
    for (const s of SIGNALS) process.off(s, onSignal);
  }
}

let databases = 0;

/** Starts a throwaway server; call `stop()` when done (an exit of the process stops it too). */
export async function startPostgres(): Promise<PostgresServer> {
  const bin = await ensureServerBinaries();
  const user = serverUser();
  const dir = mkdtempSync(join(tmpdir(), 'discv5-pg-'));
  const data = join(dir, 'data');
  if (user) chownSync(dir, user.uid, user.gid);
  const pgCtl = (...args: string[]) => asUser(user?.name, [join(bin, 'pg_ctl'), '-D', data, ...args]);
  const stopArgv = pgCtl('stop', '-m', 'immediate', '-w', '-t', '20');

  // Stops the server and removes the dir should this process end without stop(), even by SIGKILL.
  const watchdog = spawnWatchdog('"$@" >/dev/null 2>&1; rm -rf -- "$PGTMP"', stopArgv, { ...childEnv, PGTMP: dir });

  let stopped = false;
  const handle: Live = {
    stopSync() {
      if (stopped) return;
      stopped = true;
      untrack(handle);
      try {
        execFileSync(stopArgv[0] as string, stopArgv.slice(1), {
          cwd: '/',
          env: childEnv,
          stdio: 'ignore',
          timeout: 30_000,
        });
      } catch {
        // Already stopped, or never started.
      }
      rmSync(dir, { recursive: true, force: true });
      if (watchdog.exitCode === null) watchdog.kill('SIGKILL');
    },
  };
  track(handle);

  try {
    const initdb = asUser(user?.name, [
      join(bin, 'initdb'),
      ...['-D', data, '-U', POSTGRES_USER, '-A', 'trust', '-E', 'UTF8', '--no-locale', '--no-sync'],
    ]);
    const r = await runCommand(initdb, 120_000);
    if (r.code !== 0) throw new Error(`PostgreSQL specs: ${describeRun(initdb, r)}`);
    // Throwaway settings: nothing is worth an fsync; TCP on 127.0.0.1 only, the socket in our dir.
    appendFileSync(
      join(data, 'postgresql.conf'),
      [
        '',
        `listen_addresses = '${POSTGRES_HOST}'`,
        `unix_socket_directories = '${dir}'`,
        'fsync = off',
        'synchronous_commit = off',
        'full_page_writes = off',
        'max_connections = 50',
        'shared_buffers = 32MB',
        '',
      ].join('\n'),
    );
    const port = await startOnFreePort(pgCtl, join(dir, 'server.log'));
    const urlFor = (name: string) => `postgres://${POSTGRES_USER}@${POSTGRES_HOST}:${port}/${name}`;
    return {
      port,
      dir,
      url: urlFor('postgres'),
      urlFor,
      async createDatabase(name = `db_${process.pid}_${++databases}`) {
        if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`not a plain database name: ${name}`);
        const client = new pg.Client({
          connectionString: urlFor('postgres'),
          connectionTimeoutMillis: 10_000,
          query_timeout: 30_000,
        });
        await client.connect();
        try {
          await client.query(`CREATE DATABASE ${name}`);
        } finally {
          await client.end();
        }
        return urlFor(name);
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        untrack(handle);
        const r = await runCommand(stopArgv, 30_000);
        const running = existsSync(join(data, 'postmaster.pid'));
        rmSync(dir, { recursive: true, force: true });
        if (watchdog.exitCode === null) watchdog.kill('SIGKILL');
        if (r.code !== 0 && running) throw new Error(`PostgreSQL specs: ${describeRun(stopArgv, r)}`);
      },
    };
  } catch (err) {
    handle.stopSync();
    throw err;
  }
}

/** pg_ctl start -w (which polls until the server accepts connections) at a free port, retried on a clash. */
async function startOnFreePort(pgCtl: (...args: string[]) => string[], log: string): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const argv = pgCtl('start', '-w', '-t', '60', '-l', log, '-o', `-p ${port}`);
    const r = await runCommand(argv, 90_000);
    if (r.code === 0) return port;
    await runCommand(pgCtl('stop', '-m', 'immediate', '-w', '-t', '20'), 30_000); // in case it started after all
    const serverLog = existsSync(log) ? readFileSync(log, 'utf8') : '';
    const clash = /could not bind|address already in use|could not create any TCP\/IP sockets/i.test(serverLog);
    if (!clash || attempt >= 5) {
      throw new Error(
        `PostgreSQL specs: ${describeRun(argv, r)}\nserver log:\n${serverLog.split('\n').slice(-15).join('\n')}`,
      );
    }
    rmSync(log, { force: true });
  }
}
