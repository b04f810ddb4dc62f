/**
 * What `npm install discv5-native` gives a user, checked from real tarballs: the root package
 * plus this platform's binary package load the native backend and pass the spec vectors; the
 * root package alone falls back to js, says so, and refuses an explicit `native` clearly.
 * Installs run with no Rust toolchain on PATH. Needs `npm run build` first (dist/ and the addon).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import { VECTORS_PATH } from '../helpers/vectors.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const work = mkdtempSync(join(tmpdir(), 'discv5-pack-'));
test.after.always(() => rmSync(work, { recursive: true, force: true }));

/** The napi-rs platform name of this machine, as npm/ and the .node file use it. */
function platformName(): string {
  const { platform, arch } = process;
  if (platform === 'linux') {
    const glibc = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } })?.header
      ?.glibcVersionRuntime;
    return `linux-${arch}-${glibc ? 'gnu' : 'musl'}`;
  }
  if (platform === 'win32') return `win32-${arch}-msvc`;
  return `${platform}-${arch}`;
}

/** The environment of a user without Rust: cargo and rustup are not on PATH, npm's own variables dropped. */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('npm_') && k !== 'DISCV5_BACKEND' && k !== 'RUSTUP_HOME' && k !== 'CARGO_HOME') env[k] = v;
  }
  env.PATH = (process.env.PATH ?? '')
    .split(delimiter)
    .filter((p) => !/cargo|rustup/.test(p))
    .join(delimiter);
  return env;
}

function run(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, {
    cwd,
    env: userEnv(),
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 240_000,
  });
}

function pack(dir: string): string {
  const out = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], dir)) as {
    filename: string;
    files: { path: string }[];
  }[];
  const info = out[0];
  if (info === undefined) throw new Error(`npm pack gave nothing for ${dir}`);
  return join(work, info.filename);
}

function installAndCheck(name: string, tarballs: string[]) {
  const project = join(work, name);
  execFileSync('mkdir', ['-p', project]);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }));
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...tarballs], project);
  copyFileSync(join(root, '__test__/package/check-installed.mjs'), join(project, 'check.mjs'));
  const out = run(process.execPath, ['check.mjs', VECTORS_PATH], project);
  return JSON.parse(out.trim().split('\n').pop() as string);
}

/** The entries above loaded without any @libp2p package; discv5-native/libp2p fails naming one. */
function libp2pNeedsItsPeers(
  t: ExecutionContext,
  result: { libp2pPackagesPresent: boolean; libp2pError: { code?: string; message?: string } | null },
) {
  t.false(result.libp2pPackagesPresent);
  t.is(result.libp2pError?.code, 'ERR_MODULE_NOT_FOUND');
  t.regex(result.libp2pError?.message ?? '', /Cannot find package '@(libp2p|multiformats)\/[a-z0-9-]+'/);
}

const platform = platformName();
const addon = join(root, `discv5.${platform}.node`);

test.serial('the root tarball ships the loader and dist, never a .node file', (t) => {
  t.true(existsSync(join(root, 'dist/index.js')), 'run npm run build first');
  const out = JSON.parse(run('npm', ['pack', '--dry-run', '--json'], root)) as { files: { path: string }[] }[];
  const files = (out[0]?.files ?? []).map((f) => f.path);
  t.true(files.includes('binding.cjs'));
  t.true(files.includes('dist/index.js'));
  t.true(files.includes('dist/js.js'));
  t.true(files.includes('dist/libp2p.js'));
  t.true(files.includes('dist/index.d.ts'));
  t.deepEqual(
    files.filter((f) => f.endsWith('.node')),
    [],
  );
});

test.serial(`root + ${platform} tarballs, no Rust on PATH: native loads and the vectors pass`, (t) => {
  t.true(existsSync(addon), `expected the built addon at ${addon}`);
  const rootTarball = pack(root);
  const platformDir = join(work, `pkg-${platform}`);
  cpSync(join(root, 'npm', platform), platformDir, { recursive: true });
  copyFileSync(addon, join(platformDir, `discv5.${platform}.node`));
  const result = installAndCheck('with-binary', [rootTarball, pack(platformDir)]);
  t.is(result.autoBackend, 'native');
  t.deepEqual(result.autoFailures, []);
  t.is(result.nativeError, null);
  t.is(result.jsEntryBackend, 'js');
  t.deepEqual(result.jsEntryFailures, []);
  libp2pNeedsItsPeers(t, result);
});

test.serial('root tarball alone: auto falls back to js, and native is refused naming the platform', (t) => {
  const result = installAndCheck('js-only', [pack(root)]);
  t.is(result.autoBackend, 'js');
  t.deepEqual(result.autoFailures, []);
  t.is(result.nativeError?.code, 'ERR_BACKEND_UNAVAILABLE');
  t.regex(result.nativeError?.message ?? '', new RegExp(`${process.platform}-${process.arch}`));
  t.deepEqual(result.jsEntryFailures, []);
  libp2pNeedsItsPeers(t, result);
});
