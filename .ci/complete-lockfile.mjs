#!/usr/bin/env node
// Completes package-lock.json with the platform-specific optional packages that this workplace's
// npm mirror does not serve (it carries only the Linux builds of e.g. @biomejs/cli-*, @rollup/rollup-*,
// @napi-rs/lzma-*). `npm install` silently skips optional packages it cannot fetch and leaves them
// out of the lock; `npm ci` then refuses the lock as out of sync. A lock written against the full
// registry lists every platform's package with its os/cpu/libc, and npm ci skips the ones that do
// not match the machine. This script writes those entries (version from the parent's
// optionalDependencies, os/cpu/libc from the package name, as these packages name themselves).
// Run it after any `npm install` that changes the lock:  node .ci/complete-lockfile.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const OS = new Set(['android', 'darwin', 'linux', 'win32', 'freebsd', 'openharmony', 'netbsd', 'openbsd', 'sunos', 'aix']);
const CPU = new Set(['arm64', 'x64', 'arm', 'ia32', 'ppc64', 'riscv64', 's390x', 'loong64', 'wasm32', 'mips64el']);

/** os/cpu/libc from a name like @rollup/rollup-linux-arm-gnueabihf or @napi-rs/lzma-wasm32-wasi. */
function platformOf(name) {
  const tokens = name.split('/').pop().split('-');
  const entry = {};
  const os = tokens.find((t) => OS.has(t));
  const cpu = tokens.find((t) => CPU.has(t));
  if (os) entry.os = [os];
  if (cpu) entry.cpu = [cpu];
  if (os === 'linux' || os === 'openharmony') {
    if (tokens.some((t) => t.startsWith('musl'))) entry.libc = ['musl'];
    else if (tokens.some((t) => t.startsWith('gnu'))) entry.libc = ['glibc'];
  }
  return entry;
}

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(file, 'utf8'));
const packages = lock.packages;
let added = 0;
for (const [path, pkg] of Object.entries(packages)) {
  if (!pkg.optionalDependencies || path === '') continue;
  const base = path.slice(0, path.lastIndexOf('node_modules/'));
  for (const [name, version] of Object.entries(pkg.optionalDependencies)) {
    const nested = `${path}/node_modules/${name}`;
    const hoisted = `${base}node_modules/${name}`;
    if (packages[nested] || packages[hoisted] || packages[`node_modules/${name}`]) continue;
    const platform = platformOf(name);
    if (!platform.os && !platform.cpu) {
      console.warn(`skipped ${name}: its name does not say its platform`);
      continue;
    }
    packages[hoisted] = { version, ...(pkg.dev ? { dev: true } : {}), optional: true, ...platform };
    added++;
  }
}
lock.packages = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0)));
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`package-lock.json: added ${added} platform-specific optional entries`);
