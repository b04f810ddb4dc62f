/**
 * The example apps in examples/, run as a user runs them, on loopback, against `discv5 testnet`:
 * - cl-peer-finder through its one-command launcher (run-local.mjs: a 50-node testnet and 4
 *   instances): every instance connects to the 3 others, joins the gossipsub mesh and receives
 *   messages from each of them, and dials no one else (the testnet's members have no tcp entry);
 * - peer-tracker against a testnet this spec starts: the connected set grows to 3, a SIGKILLed
 *   instance shows as a disconnection and a smaller set, and the same peer coming back (same key,
 *   same port) as a reconnection and the full set again;
 * - peer-tracker's launcher started with this process's Node (re-running itself with a Node >= 22
 *   when this one is older), and the message it gives when there is none.
 * The apps import 'discv5-native' and 'discv5-native/libp2p' through package.json "exports"
 * (self-reference), so they run the built package: `npm run build` first. js-libp2p 3 needs Node >=
 * 22, so children run on nodeForLibp2p() (this Node, or Node 26 from the CI cache). Every wait ends
 * on a JSON line or at a bounded deadline; every child runs in a process group of its own, killed
 * at teardown.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import { decodeEnr } from '../ts/index.js';
import { nodeForLibp2p } from './helpers/node26.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(root, 'dist', 'cli.js');
const FINDER_LAUNCHER = join(root, 'examples', 'cl-peer-finder', 'run-local.mjs');
const TRACKER = join(root, 'examples', 'peer-tracker', 'peer-tracker.mjs');
const TRACKER_LAUNCHER = join(root, 'examples', 'peer-tracker', 'run-local.mjs');
const K = 4;
const WAIT_MS = 25_000;

type Line = Record<string, unknown> & { event?: string; instance?: string };

/** Every child started here, so that nothing outlives the test process. */
const running = new Set<Proc>();
process.on('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

/** A child in a process group of its own whose stdout lines are kept (parsed when JSON); waits re-check on each line. */
class Proc {
  readonly lines: Line[] = [];
  readonly text: string[] = [];
  readonly stderr: string[] = [];
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  readonly child: ChildProcess;
  readonly #pokes = new Set<() => void>();

  constructor(
    readonly name: string,
    bin: string,
    args: string[],
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.child = spawn(bin, args, { cwd: root, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(this);
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        parsed = undefined;
      }
      if (parsed !== null && typeof parsed === 'object') this.lines.push(parsed as Line);
      else this.text.push(line);
      this.#poke();
    });
    createInterface({ input: this.child.stderr! }).on('line', (line) => this.stderr.push(line));
    this.child.on('exit', (code, signal) => {
      this.exit = { code, signal };
      running.delete(this);
      this.#poke();
    });
  }

  #poke(): void {
    for (const f of this.#pokes) f();
  }

  /** Resolves with check()'s first defined result; rejects at the deadline, or when the child exits first. */
  until<T>(what: string, check: () => T | undefined, ms = WAIT_MS): Promise<T> {
    return new Promise((resolve, reject) => {
      const done = (err: Error | undefined, value?: T) => {
        clearTimeout(timer);
        this.#pokes.delete(poke);
        if (err === undefined) resolve(value as T);
        else reject(err);
      };
      const poke = () => {
        const value = check();
        if (value !== undefined) done(undefined, value);
        else if (this.exit !== undefined) done(new Error(`${this.name} exited (${this.why()}) before ${what}`));
      };
      const timer = setTimeout(() => done(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
      this.#pokes.add(poke);
      poke();
    });
  }

  /** The child's exit, once it has exited (with a deadline). */
  exited(ms = WAIT_MS): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.until(`${this.name} to exit`, () => this.exit, ms);
  }

  why(): string {
    return `${this.exit?.signal ?? `code ${this.exit?.code}`}; stderr: ${this.stderr.slice(-5).join(' | ')}`;
  }

  /** Signals the whole process group (which may outlive its leader). */
  kill(signal: NodeJS.Signals): void {
    if (this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, signal);
    } catch {
      // already gone
    }
  }
}

function start(t: ExecutionContext, name: string, bin: string, args: string[], env?: NodeJS.ProcessEnv): Proc {
  const p = new Proc(name, bin, args, env);
  t.teardown(() => p.kill('SIGKILL'));
  return p;
}

/** Peers connected according to an app's connect/disconnect lines, in order. */
function connectedSet(lines: readonly Line[]): Set<string> {
  const set = new Set<string>();
  for (const l of lines) {
    if (l.event === 'connect') set.add(l.peer as string);
    else if (l.event === 'disconnect') set.delete(l.peer as string);
  }
  return set;
}

const ofEvent = (lines: readonly Line[], event: string) => lines.filter((l) => l.event === event);
const short = (id: string) => `${id.slice(0, 6)}…${id.slice(-6)}`;

function needBuild(t: ExecutionContext): boolean {
  for (const f of [CLI, join(root, 'dist', 'index.js'), join(root, 'dist', 'libp2p.js')]) {
    if (!existsSync(f)) {
      t.fail(`${f} is missing: the examples run the built package (npm run build)`);
      return true;
    }
  }
  return false;
}

test('cl-peer-finder: one command, 4 instances find each other on a 50-node testnet, mesh and exchange messages', async (t) => {
  if (needBuild(t)) return;
  const node = await nodeForLibp2p();
  const started = performance.now();
  const since = () => Math.round(performance.now() - started);
  const launcher = start(t, 'launcher', node, [
    FINDER_LAUNCHER,
    '--instances',
    String(K),
    '--nodes',
    '50',
    '--duration',
    '40',
    '--json',
  ]);
  const apps = Array.from({ length: K }, (_, i) => `app-${i + 1}`);
  const of = (app: string) => launcher.lines.filter((l) => l.instance === app);

  const ready = await launcher.until('every instance ready', () => {
    const r = apps.map((a) => of(a).find((l) => l.event === 'ready'));
    return r.every((l) => l !== undefined) ? (r as Line[]) : undefined;
  });
  const readyMs = since();
  const ids = ready.map((r) => r.peerId as string);
  const boot = launcher.lines.find((l) => l.instance === 'launcher' && l.event === 'testnet')?.bootnode as string;
  t.truthy(boot, 'the launcher reports the testnet bootnode');

  // Each record advertises the network (eth2 fork digest 0d15c0de) and libp2p's tcp port.
  for (const r of ready) {
    const enr = decodeEnr(r.enr as string);
    t.is(Buffer.from(enr.forkDigest ?? []).toString('hex'), '0d15c0de');
    t.is(enr.tcp, Number((r.listen as string[])[0]?.split('/')[4]));
    t.true(enr.udp !== undefined && enr.udp > 0);
    if (process.env.DISCV5_BACKEND) t.is(r.backend, process.env.DISCV5_BACKEND);
  }

  // Connected to the K-1 others, in the mesh, and a message from each of them.
  const state = (app: string, i: number) => {
    const lines = of(app);
    const others = ids.filter((_, j) => j !== i);
    const peers = connectedSet(lines);
    const from = new Set(ofEvent(lines, 'message').map((l) => l.from as string));
    const mesh = Math.max(0, ...ofEvent(lines, 'mesh').map((l) => l.size as number));
    return { connected: others.every((id) => peers.has(id)), mesh, heardAll: others.every((id) => from.has(id)) };
  };
  const connectedMs: (number | undefined)[] = apps.map(() => undefined);
  await launcher.until('every instance connected to the others, in the mesh, with messages from each', () => {
    const s = apps.map(state);
    s.forEach((x, i) => {
      if (x.connected) connectedMs[i] ??= since();
    });
    return s.every((x) => x.connected && x.mesh >= 1 && x.heardAll) ? s : undefined;
  });
  const doneMs = since();

  // Stop it as Ctrl-C would (a signal to the launcher): everyone stops cleanly.
  process.kill(launcher.child.pid!, 'SIGTERM');
  const exit = await launcher.exited(20_000);
  t.is(exit.code, 0, launcher.why());
  t.like(
    launcher.lines.find((l) => l.instance === 'launcher' && l.event === 'stopped'),
    { failed: false },
  );
  const summaries = apps.map((app) => of(app).find((l) => l.event === 'summary'));
  t.true(
    summaries.every((x) => x !== undefined),
    'every instance printed its summary',
  );
  // The testnet's records reached the filter and were turned away (no tcp): the checks below are not vacuous.
  const filtered = summaries.map((x) => (x?.discovery as Record<string, number> | undefined)?.['peer.filtered'] ?? 0);
  t.true(
    filtered.every((n) => n > 0),
    `records filtered out: ${filtered}`,
  );

  const all = new Set(ids);
  for (const [i, app] of apps.entries()) {
    const lines = of(app);
    const others = ids.filter((_, j) => j !== i);
    // Discovery reported, and the app dialed, only the other instances: never a testnet member.
    const found = new Set(ofEvent(lines, 'found').map((l) => l.peer as string));
    const dialed = ofEvent(lines, 'dial').map((l) => l.peer as string);
    t.true(
      [...found].every((p) => all.has(p) && p !== ids[i]),
      `${app} found only instances`,
    );
    t.true(
      dialed.every((p) => others.includes(p)),
      `${app} dialed only instances: ${dialed.map(short)}`,
    );
    t.true(dialed.length <= others.length, `${app} dialed each peer at most once`);
  }
  const mesh = apps.map((a, i) => state(a, i).mesh);
  const received = apps.map((a) => ofEvent(of(a), 'message').length);
  t.log(
    `ready ${readyMs} ms; all connected at ${connectedMs.join('/')} ms; mesh + messages from all at ${doneMs} ms; ` +
      `largest mesh ${mesh.join('/')}; messages received ${received.join('/')}; ` +
      `testnet records filtered out ${filtered.join('/')}; stopped at ${since()} ms`,
  );
});

test('peer-tracker: the connected set grows to K-1, shrinks when an instance is SIGKILLed, and is whole again when it comes back', async (t) => {
  if (needBuild(t)) return;
  const node = await nodeForLibp2p();
  const started = performance.now();
  const since = () => Math.round(performance.now() - started);
  const dir = mkdtempSync(join(tmpdir(), 'discv5-tracker-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));

  const testnet = start(t, 'testnet', node, [CLI, 'testnet', '--nodes', '50', '--prefill']);
  const boot = await testnet.until('the bootnode record', () => testnet.text[0]);
  t.true(boot.startsWith('enr:'));
  const key = join(dir, 'app-4.key');
  const tracker = (name: string, extra: string[] = []) =>
    start(t, name, node, [
      TRACKER,
      '--bootnodes',
      boot,
      '--json',
      '--every',
      '0.5',
      '--search-interval',
      '1',
      '--backoff',
      '0.5',
      '--backoff-max',
      '2',
      ...extra,
    ]);
  const apps = Array.from({ length: K }, (_, i) => tracker(`app-${i + 1}`, i === K - 1 ? ['--key', key] : []));
  const ready = await Promise.all(apps.map((a) => a.until('ready', () => ofEvent(a.lines, 'ready')[0])));
  const ids = ready.map((r) => r.peerId as string);
  const readyMs = since();

  /** The first 'peers' report at or after line `from` whose set is exactly `want`. */
  const reports = (a: Proc, want: readonly string[], from = 0) => {
    const sorted = [...want].sort().join();
    return a.lines.slice(from).find((l) => l.event === 'peers' && (l.peers as string[]).join() === sorted);
  };
  const others = (i: number) => ids.filter((_, j) => j !== i);
  await Promise.all(apps.map((a, i) => a.until(`app-${i + 1} to report the 3 others`, () => reports(a, others(i)))));
  const fullMs = since();
  for (const [i, a] of apps.entries()) {
    // The set grew one connection at a time up to K-1, and the reports saw it there.
    const counts = ofEvent(a.lines, 'connect').map((l) => l.connected as number);
    t.deepEqual(counts.slice(0, K - 1), [1, 2, 3], `app-${i + 1} connect counts ${counts}`);
    t.true(ofEvent(a.lines, 'peers').every((l) => (l.count as number) <= K - 1));
  }

  // SIGKILL the last instance: the others see it go, and report the set without it.
  const gone = ids[K - 1]!;
  const port = String((ready[K - 1]!.listen as string[])[0]?.split('/')[4]);
  const marks = apps.map((a) => a.lines.length);
  apps[K - 1]!.kill('SIGKILL');
  const killedAt = since();
  const survivors = apps.slice(0, K - 1);
  await Promise.all(
    survivors.map((a, i) =>
      a.until(`app-${i + 1} to log the disconnection and report 2 peers`, () => {
        const lines = a.lines.slice(marks[i]);
        const at = lines.findIndex((l) => l.event === 'disconnect' && l.peer === gone);
        if (at === -1) return undefined;
        return reports(
          a,
          others(i).filter((id) => id !== gone),
          marks[i]! + at,
        );
      }),
    ),
  );
  const shrunkMs = since();
  for (const [i, a] of survivors.entries()) {
    t.like(
      a.lines.slice(marks[i]).find((l) => l.event === 'disconnect'),
      { peer: gone, connected: 2 },
    );
  }

  // The same peer comes back (same key, same tcp port): a reconnection, and the whole set again.
  const back = tracker('app-4b', ['--key', key, '--port', port]);
  const again = await back.until('the restarted instance ready', () => ofEvent(back.lines, 'ready')[0]);
  t.is(again.peerId, gone, 'the same key is the same peer');
  await Promise.all([
    ...survivors.map((a, i) =>
      a.until(`app-${i + 1} to log the reconnection and report 3 peers`, () => {
        const lines = a.lines.slice(marks[i]);
        const at = lines.findIndex((l) => l.event === 'connect' && l.peer === gone);
        if (at === -1) return undefined;
        return reports(a, others(i), marks[i]! + at);
      }),
    ),
    back.until('the restarted instance to report 3 peers', () => reports(back, ids.slice(0, K - 1))),
  ]);
  const backMs = since();
  for (const [i, a] of survivors.entries()) {
    t.like(
      a.lines.slice(marks[i]).find((l) => l.event === 'connect' && l.peer === gone),
      { reconnect: true, connected: 3 },
      `app-${i + 1}`,
    );
  }
  // While it was away, each survivor redialed it, the first time after --backoff (0.5 s, +-20 %).
  const redials = survivors.map((a, i) =>
    a.lines.slice(marks[i]).filter((l) => l.event === 'redial' && l.peer === gone),
  );
  for (const r of redials) {
    t.true(r.length >= 1);
    t.like(r[0], { attempt: 1 });
    t.true((r[0]?.delayMs as number) >= 400 && (r[0]?.delayMs as number) <= 600);
  }

  for (const a of [...survivors, back]) a.child.kill('SIGTERM');
  for (const a of [...survivors, back]) t.is((await a.exited(10_000)).code, 0, a.why());
  t.log(
    `ready ${readyMs} ms; full set at ${fullMs} ms; killed at ${killedAt} ms, set shrunk at ${shrunkMs} ms; ` +
      `restarted, whole again at ${backMs} ms (redials while it was away: ${redials.map((r) => r.length).join('/')})`,
  );
});

test('peer-tracker: the launcher runs under this Node (re-running itself on a Node >= 22 if needed), and stops on SIGTERM', async (t) => {
  if (needBuild(t)) return;
  const modern = await nodeForLibp2p();
  const old = typeof (Promise as { withResolvers?: unknown }).withResolvers !== 'function';
  const started = performance.now();
  // This Node: if older than 22, the launcher must find `modern` (DISCV5_EXAMPLES_NODE) and use it.
  const launcher = start(
    t,
    'launcher',
    process.execPath,
    [TRACKER_LAUNCHER, '--instances', '3', '--nodes', '20', '--duration', '40', '--json', '--', '--every', '0.5'],
    { ...process.env, DISCV5_EXAMPLES_NODE: modern },
  );
  const apps = ['app-1', 'app-2', 'app-3'];
  const of = (app: string) => launcher.lines.filter((l) => l.instance === app);
  await launcher.until('every instance to report the 2 others', () =>
    apps.every((a) => of(a).some((l) => l.event === 'peers' && l.count === 2)) ? true : undefined,
  );
  const fullMs = Math.round(performance.now() - started);
  const begin = launcher.lines.find((l) => l.instance === 'launcher' && l.event === 'start');
  t.true(
    Number(
      String(begin?.node ?? 'v0')
        .slice(1)
        .split('.')[0],
    ) >= 22,
    `the apps ran on ${begin?.node}`,
  );
  if (old) t.true(launcher.stderr.some((l) => l.includes('running again with Node')));
  process.kill(launcher.child.pid!, 'SIGTERM');
  t.is((await launcher.exited(20_000)).code, 0, launcher.why());
  for (const a of apps)
    t.truthy(
      of(a).find((l) => l.event === 'stopped'),
      `${a} stopped cleanly`,
    );
  t.log(`3 trackers connected at ${fullMs} ms; stopped at ${Math.round(performance.now() - started)} ms`);
});

test('launcher: without a Node >= 22 it says so and what to do', async (t) => {
  if (typeof (Promise as { withResolvers?: unknown }).withResolvers === 'function') {
    t.pass('this Node runs js-libp2p 3: nothing to find');
    return;
  }
  const empty = mkdtempSync(join(tmpdir(), 'discv5-no-node-'));
  t.teardown(() => rmSync(empty, { recursive: true, force: true }));
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: empty, XDG_CACHE_HOME: empty, NVM_DIR: empty };
  delete env.DISCV5_EXAMPLES_NODE;
  const launcher = start(t, 'launcher', process.execPath, [FINDER_LAUNCHER, '--duration', '5'], env);
  const exit = await launcher.exited(20_000);
  t.is(exit.code, 1);
  const said = launcher.stderr.join('\n');
  t.regex(said, /needs Node\.js >= 22/);
  t.regex(said, /DISCV5_EXAMPLES_NODE/);
  t.regex(said, /npx -y node@22/);
});
