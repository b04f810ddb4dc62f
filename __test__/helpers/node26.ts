/**
 * A Node.js that can run js-libp2p 3 (it needs Promise.withResolvers, Node >= 22: under Node 20 its
 * modules import but connections fail). This process's Node when it has that; else Node 26.10.0
 * from the CI cache (${XDG_CACHE_HOME:-~/.cache}/discv5-native-ci/node-26.10.0), installed there
 * if missing exactly as .ci/run's install_node26 does: the registry's `node` package, through npm,
 * in a folder of its own. Concurrent callers (ava runs spec files in parallel processes) take turns
 * through a lock file in the temp dir; every wait is bounded.
 */
import { execFile } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const NODE26_VERSION = '26.10.0';
const INSTALL_TIMEOUT_MS = 300_000;
const LOCK_WAIT_MS = 360_000;

function cacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'discv5-native-ci', `node-${NODE26_VERSION}`);
}

async function versionOf(bin: string): Promise<string | undefined> {
  if (!existsSync(bin)) return undefined;
  try {
    return (await run(bin, ['--version'], { timeout: 20_000 })).stdout.trim();
  } catch {
    return undefined;
  }
}

/** Runs `fn` holding an exclusive lock file (a stale lock, older than the longest install, is taken over). */
async function withLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      closeSync(openSync(path, 'wx'));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      try {
        if (Date.now() - statSync(path).mtimeMs > INSTALL_TIMEOUT_MS + 60_000) rmSync(path, { force: true });
      } catch {
        // removed meanwhile: try again
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for the lock ${path}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(path, { force: true });
  }
}

/** The path of a Node.js binary that runs js-libp2p 3 (installing Node 26 in the CI cache if needed). */
export async function nodeForLibp2p(): Promise<string> {
  if (typeof (Promise as { withResolvers?: unknown }).withResolvers === 'function') return process.execPath;
  const dir = cacheDir();
  const bin = join(dir, 'node_modules', 'node', 'bin', 'node');
  const want = `v${NODE26_VERSION}`;
  if ((await versionOf(bin)) === want) return bin;
  return withLock(join(tmpdir(), `discv5-native-node-${NODE26_VERSION}.lock`), async () => {
    if ((await versionOf(bin)) === want) return bin; // another process installed it meanwhile
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    // allowScripts: npm 11 warns about (and later npm versions block) unreviewed install scripts.
    const pkg = { private: true, dependencies: { node: NODE26_VERSION }, allowScripts: { node: true } };
    writeFileSync(join(dir, 'package.json'), `${JSON.stringify(pkg)}\n`);
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    await run(npm, ['install', '--no-audit', '--no-fund', '--no-package-lock'], {
      cwd: dir,
      timeout: INSTALL_TIMEOUT_MS,
      maxBuffer: 16 * 1024 * 1024,
    });
    const got = await versionOf(bin);
    if (got !== want) throw new Error(`installed Node ${NODE26_VERSION} in ${dir}, but ${bin} answers ${got}`);
    return bin;
  });
}
