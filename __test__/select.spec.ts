/** Backend selection: option, then DISCV5_BACKEND, then auto; the js entry point never loads the addon. */
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { jsBackend } from '../ts/crypto/js.js';
import { loadNativeBackend } from '../ts/crypto/native.js';
import { selectBackend } from '../ts/crypto/select.js';
import { createCrypto, Discv5Error, ErrorCode } from '../ts/index.js';
import { createCrypto as createJsCrypto } from '../ts/js.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const failingLoader = () => {
  throw new Discv5Error(ErrorCode.BACKEND_UNAVAILABLE, 'native backend unavailable on test-platform');
};

test('the option wins over DISCV5_BACKEND', (t) => {
  t.is(selectBackend('js', loadNativeBackend, { DISCV5_BACKEND: 'native' }).name, 'js');
  t.is(selectBackend('native', loadNativeBackend, { DISCV5_BACKEND: 'js' }).name, 'native');
});

test('DISCV5_BACKEND applies when no option is given; empty or unset means auto', (t) => {
  t.is(selectBackend(undefined, loadNativeBackend, { DISCV5_BACKEND: 'js' }).name, 'js');
  t.is(selectBackend(undefined, loadNativeBackend, { DISCV5_BACKEND: 'native' }).name, 'native');
  t.is(selectBackend(undefined, loadNativeBackend, {}).name, 'native');
  t.is(selectBackend(undefined, loadNativeBackend, { DISCV5_BACKEND: '' }).name, 'native');
});

test('auto falls back to js when the addon does not load; native then throws BACKEND_UNAVAILABLE', (t) => {
  t.is(selectBackend('auto', failingLoader, {}), jsBackend);
  const err = t.throws(() => selectBackend('native', failingLoader, {}), { instanceOf: Discv5Error });
  t.is(err?.code, ErrorCode.BACKEND_UNAVAILABLE);
});

test('an unknown backend name is INVALID_BACKEND, from the option or the environment', (t) => {
  const a = t.throws(() => selectBackend('rust' as 'js', loadNativeBackend, {}), { instanceOf: Discv5Error });
  t.is(a?.code, ErrorCode.INVALID_BACKEND);
  const b = t.throws(() => selectBackend(undefined, loadNativeBackend, { DISCV5_BACKEND: 'fast' }), {
    instanceOf: Discv5Error,
  });
  t.is(b?.code, ErrorCode.INVALID_BACKEND);
  t.regex(b?.message ?? '', /DISCV5_BACKEND/);
});

test('the backend in use is observable', (t) => {
  t.is(createCrypto({ backend: 'native' }).backend, 'native');
  t.is(createCrypto({ backend: 'js' }).backend, 'js');
  t.is(createJsCrypto({ backend: 'auto' }).backend, 'js');
});

test('discv5-native/js: auto means js and an explicit native option is refused', (t) => {
  t.is(createJsCrypto({ backend: 'auto' }).backend, 'js');
  const err = t.throws(() => createJsCrypto({ backend: 'native' }), { instanceOf: Discv5Error });
  t.is(err?.code, ErrorCode.BACKEND_UNAVAILABLE);
});

test('discv5-native/js: a process-wide DISCV5_BACKEND=native does not override the entry point', (t) => {
  t.is(selectBackend(undefined, undefined, { DISCV5_BACKEND: 'native' }).name, 'js');
  t.is(selectBackend(undefined, undefined, { DISCV5_BACKEND: 'js' }).name, 'js');
  const err = t.throws(() => selectBackend(undefined, undefined, { DISCV5_BACKEND: 'wasm' }), {
    instanceOf: Discv5Error,
  });
  t.is(err?.code, ErrorCode.INVALID_BACKEND);
});

test('discv5-native/js never loads a native addon, and the selection is logged at debug level', (t) => {
  // A fresh process where any dlopen fails the run: the js entry must not need one.
  const script = `
    process.dlopen = () => { throw new Error('dlopen called'); };
    const { createCrypto } = await import(${JSON.stringify(resolve(root, 'ts/js.ts'))});
    const c = createCrypto();
    console.log(c.backend + ':' + Buffer.from(c.keccak256(new Uint8Array(0))).toString('hex').slice(0, 8));
  `;
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: root,
    env: { ...process.env, DISCV5_BACKEND: 'auto', DEBUG: 'discv5:*' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  t.is(run.status, 0, run.stderr);
  t.is(run.stdout.trim(), 'js:c5d24601');
  t.regex(run.stderr, /discv5:crypto crypto backend: js \(requested auto\)/);
});
