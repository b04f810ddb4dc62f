// @ts-check
/**
 * What the examples' one-command launchers (run-local.mjs) share: find a Node.js that can run
 * js-libp2p 3, start `discv5 testnet --nodes N --prefill` on loopback, start K instances of an
 * example app pointed at its bootnode, relay everyone's output with a prefix, and stop everything
 * on Ctrl-C, SIGTERM or after --duration.
 *
 * Children stay in the launcher's process group, so Ctrl-C in a terminal reaches all of them at
 * once, and killing the group kills everything. The apps also get an IPC channel and stop when it
 * closes, so they end even if the launcher itself is killed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/** @typedef {import('node:child_process').ChildProcess} ChildProcess */

const hasWithResolvers = () => typeof (/** @type {any} */ (Promise).withResolvers) === 'function';

/** Node.js binaries to try when this one is too old: $DISCV5_EXAMPLES_NODE, the repo's CI cache, nvm's versions. */
function candidates() {
  /** @param {string} dir */
  const list = (dir) => {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  };
  const out = [];
  if (process.env.DISCV5_EXAMPLES_NODE) out.push(process.env.DISCV5_EXAMPLES_NODE);
  const cache = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'discv5-native-ci');
  for (const d of list(cache)) out.push(join(cache, d, 'node_modules', 'node', 'bin', 'node'));
  const nvm = join(process.env.NVM_DIR || join(homedir(), '.nvm'), 'versions', 'node');
  for (const d of list(nvm)) out.push(join(nvm, d, 'bin', 'node'));
  return out;
}

/** The newest Node.js among the candidates that has Promise.withResolvers (>= 22), or undefined. */
export function findModernNode() {
  let best;
  for (const bin of candidates()) {
    if (!existsSync(bin)) continue;
    const r = spawnSync(bin, ['-p', 'typeof Promise.withResolvers === "function" ? process.versions.node : ""'], {
      encoding: 'utf8',
      timeout: 15_000,
    });
    const version = r.status === 0 ? r.stdout.trim() : '';
    if (version === '') continue;
    const [a = 0, b = 0, c = 0] = version.split('.').map(Number);
    const rank = a * 1e6 + b * 1e3 + c;
    if (best === undefined || rank > best.rank) best = { bin, version, rank };
  }
  return best;
}

/**
 * Returns if this Node.js can run js-libp2p 3; otherwise runs this script again with one that can
 * (never returning), or explains what to do and exits 1.
 * @param {string | URL} script the launcher's import.meta.url
 */
export async function ensureModernNode(script) {
  if (hasWithResolvers()) return;
  const found = findModernNode();
  if (found === undefined) {
    process.stderr.write(
      `js-libp2p 3 needs Node.js >= 22 (it uses Promise.withResolvers), and this is Node ${process.version}.\n` +
        'No newer Node.js was found ($DISCV5_EXAMPLES_NODE, ~/.cache/discv5-native-ci, ~/.nvm/versions/node).\n' +
        'Install one (nvm install 22, or from https://nodejs.org) and run this again with it, or point\n' +
        'DISCV5_EXAMPLES_NODE at its binary, or let npm fetch one for this run:\n' +
        `  npx -y node@22 ${process.argv.slice(1).join(' ')}\n`,
    );
    process.exit(1);
  }
  process.stderr.write(
    `Node ${process.version} cannot run js-libp2p 3: running again with Node ${found.version} (${found.bin})\n`,
  );
  const child = spawn(found.bin, [fileURLToPath(script), ...process.argv.slice(2)], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
  });
  // Ctrl-C reaches the child through the terminal's process group; a SIGTERM sent to us alone is passed on.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  child.on('exit', (code, signal) => process.exit(code ?? (signal === null ? 0 : 1)));
  await new Promise(() => {}); // the exit handler ends this process
}

/** The `discv5` command (dist/cli.js) of the installed discv5-native (or of this repo, by self-reference). */
export function discv5Cli() {
  const pkgFile = fileURLToPath(import.meta.resolve('discv5-native/package.json'));
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8'));
  const cli = join(dirname(pkgFile), pkg.bin.discv5);
  if (!existsSync(cli)) {
    process.stderr.write(`${cli} is missing: build discv5-native first (npm run build)\n`);
    process.exit(1);
  }
  return cli;
}

const LAUNCHER_USAGE = `  --instances K   how many instances of the app (default 4)
  --nodes N       how many discv5 testnet nodes (default 50)
  --duration S    stop everything after S seconds (default: run until Ctrl-C)
  --json          relay the apps' JSON lines, each with an "instance" field
  -- ARGS         anything after -- goes to every instance (it overrides the launcher's defaults)`;

/**
 * The launcher: parses its options, starts the testnet and the apps, relays, stops.
 * @param {{ name: string, script: string | URL, app: string | URL, appDefaults: string[] }} o
 *   name: the app's name in messages; script: the launcher's import.meta.url; app: the app's path or
 *   URL; appDefaults: app options suited to a local run (the user's `-- ARGS` come after, and win).
 */
export async function runLocal(o) {
  const argv = process.argv.slice(2);
  const cut = argv.indexOf('--');
  const own = cut === -1 ? argv : argv.slice(0, cut);
  const extra = cut === -1 ? [] : argv.slice(cut + 1);
  let values;
  try {
    ({ values } = parseArgs({
      args: own,
      options: {
        instances: { type: 'string', default: '4' },
        nodes: { type: 'string', default: '50' },
        duration: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`${/** @type {Error} */ (err).message}\n\n${LAUNCHER_USAGE}\n`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(`Starts a discv5 testnet and ${o.name} instances on loopback.\n\n${LAUNCHER_USAGE}\n`);
    process.exit(0);
  }
  const instances = Number(values.instances);
  const nodes = Number(values.nodes);
  const duration = values.duration === undefined ? undefined : Number(values.duration);
  if (!Number.isInteger(instances) || instances < 1 || instances > 64) bad('--instances must be 1..64');
  if (!Number.isInteger(nodes) || nodes < 2) bad('--nodes must be an integer >= 2');
  if (duration !== undefined && !(duration > 0)) bad('--duration must be a number of seconds > 0');
  await ensureModernNode(o.script);
  const cli = discv5Cli();
  const json = values.json === true;
  const app = typeof o.app === 'string' ? o.app : fileURLToPath(o.app);
  const out = relay(json, () => void stop('the output was closed'));
  const started = performance.now();

  /** @type {{ name: string, child: ChildProcess, exited: Promise<void>, done: boolean }[]} */
  const procs = [];
  let stopping = false;
  let failed = false;
  /** @param {string} name @param {ChildProcess} child */
  const track = (name, child) => {
    const p = { name, child, done: false, exited: Promise.resolve() };
    p.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        p.done = true;
        out.event('launcher', 'exit', { name, code, signal }, `${name} exited (${signal ?? `code ${code}`})`);
        if (!stopping && (code !== 0 || name === 'testnet')) {
          failed = true;
          if (name === 'testnet') void stop('the testnet exited');
        }
        if (!stopping && name !== 'testnet' && procs.every((q) => q.done || q.name === 'testnet'))
          void stop('every instance exited');
        resolve();
      });
    });
    procs.push(p);
    return p;
  };

  /** @param {string} reason */
  async function stop(reason) {
    if (stopping) return;
    stopping = true;
    out.event('launcher', 'stopping', { reason }, `stopping (${reason})`);
    const apps = procs.filter((p) => p.name !== 'testnet');
    await ended(apps, 8_000);
    await ended(
      procs.filter((p) => p.name === 'testnet'),
      5_000,
    );
    out.event('launcher', 'stopped', { failed }, failed ? 'stopped; an instance failed' : 'stopped');
    process.exit(failed ? 1 : 0);
  }
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  // Run by another process with an IPC channel (the re-run above does that): stop when it goes.
  if (process.channel !== undefined) {
    process.channel.unref();
    process.on('disconnect', () => void stop('the parent process exited'));
  }

  out.event(
    'launcher',
    'start',
    { node: process.version, nodes, instances, backend: process.env.DISCV5_BACKEND ?? 'auto' },
    `Node ${process.version}: a ${nodes}-node discv5 testnet and ${instances} ${o.name} instance(s); Ctrl-C stops everything`,
  );
  const exitWithParent = new URL('./exit-with-parent.mjs', import.meta.url).href;
  const testnet = spawn(
    process.execPath,
    ['--import', exitWithParent, cli, 'testnet', '--nodes', String(nodes), '--prefill'],
    { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] },
  );
  track('testnet', testnet);
  const bootnode = await firstLine(testnet, 60_000).catch((err) => {
    out.event('launcher', 'error', { error: err.message }, err.message);
    failed = true;
    return stop('no testnet');
  });
  if (typeof bootnode !== 'string' || !bootnode.startsWith('enr:')) return;
  out.lines('testnet', testnet.stdout);
  out.lines('testnet', testnet.stderr);
  out.event(
    'launcher',
    'testnet',
    { bootnode, ms: Math.round(performance.now() - started) },
    `testnet ready, bootnode ${bootnode}`,
  );
  if (stopping) return;
  for (let i = 1; i <= instances; i++) {
    const name = `app-${i}`;
    const args = [app, '--bootnodes', bootnode, ...o.appDefaults, ...extra, ...(json ? ['--json'] : [])];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    track(name, child);
    out.lines(name, child.stdout);
    out.lines(name, child.stderr);
  }
  if (duration !== undefined) setTimeout(() => void stop(`--duration ${duration}`), duration * 1000);
}

/** @param {string} message @returns {never} */
function bad(message) {
  process.stderr.write(`${message}\n\n${LAUNCHER_USAGE}\n`);
  process.exit(2);
}

/**
 * Sends SIGTERM to those still running, waits up to `ms`, then SIGKILLs the rest.
 * @param {{ child: ChildProcess, exited: Promise<void>, done: boolean }[]} procs @param {number} ms
 */
async function ended(procs, ms) {
  for (const p of procs) if (!p.done) p.child.kill('SIGTERM');
  let timer;
  const late = new Promise((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  await Promise.race([Promise.all(procs.map((p) => p.exited)), late]);
  clearTimeout(timer);
  for (const p of procs) if (!p.done) p.child.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
}

/** The first line of a child's stdout (the testnet prints its bootnode record first). @param {ChildProcess} child @param {number} ms */
function firstLine(child, ms) {
  return new Promise((resolve, reject) => {
    let buf = '';
    const stdout = /** @type {import('node:stream').Readable} */ (child.stdout);
    const done = (/** @type {Error | undefined} */ err, /** @type {string} */ line = '') => {
      clearTimeout(timer);
      stdout.pause(); // no data may flow (and be lost) before the relay reads the rest
      stdout.off('data', onData);
      child.off('exit', onExit);
      if (err) reject(err);
      else {
        // Give back what came after the first line, for the relay.
        const rest = buf.slice(line.length + 1);
        if (rest.length > 0) stdout.unshift(rest);
        resolve(line);
      }
    };
    const onData = (/** @type {Buffer} */ chunk) => {
      buf += chunk.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl !== -1) done(undefined, buf.slice(0, nl).trim());
    };
    const onExit = () => done(new Error('the testnet exited before printing its bootnode record'));
    const timer = setTimeout(() => done(new Error(`no bootnode record from the testnet within ${ms} ms`)), ms);
    stdout.on('data', onData);
    child.on('exit', onExit);
  });
}

const COLORS = [36, 33, 35, 32, 34, 91, 96, 93];

/**
 * Relays lines with a prefix (text) or as JSON objects with an `instance` field (--json).
 * @param {boolean} json @param {() => void} closed called when stdout is gone (e.g. piped into `head`)
 */
function relay(json, closed) {
  const color = !json && process.stdout.isTTY === true;
  let open = true;
  process.stdout.on('error', () => {
    open = false;
    closed();
  });
  /** @param {string} text */
  const write = (text) => {
    if (open) process.stdout.write(text);
  };
  const names = new Map();
  /** @param {string} name */
  const prefix = (name) => {
    if (!names.has(name)) names.set(name, COLORS[names.size % COLORS.length]);
    const label = name.padEnd(8);
    return color ? `\x1b[${names.get(name)}m${label}│\x1b[0m ` : `${label}│ `;
  };
  /** @param {string} name @param {string} event @param {Record<string, unknown>} fields @param {string} text */
  const event = (name, event, fields, text) => {
    if (json) write(`${JSON.stringify({ instance: name, t: new Date().toISOString(), event, ...fields })}\n`);
    else write(`${prefix(name)}${text}\n`);
  };
  /** @param {string} name @param {import('node:stream').Readable | null} stream */
  const lines = (name, stream) => {
    if (stream === null) return;
    createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => {
      if (!json) {
        write(`${prefix(name)}${line}\n`);
        return;
      }
      let obj;
      try {
        obj = JSON.parse(line);
      } catch {
        obj = undefined;
      }
      if (obj !== null && typeof obj === 'object' && !Array.isArray(obj)) event(name, obj.event ?? 'line', obj, '');
      else event(name, 'log', { line }, '');
    });
  };
  return { event, lines };
}
