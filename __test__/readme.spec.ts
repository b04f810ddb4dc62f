/** README stays true: its configuration table lists every setting with its real default. */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { DEFAULT_CONFIG } from '../ts/index.js';

const readme = readFileSync(resolve(dirname(fileURLToPath(import.meta.url)), '../README.md'), 'utf8');

test('the README configuration table is DEFAULT_CONFIG', (t) => {
  const table = readme.slice(readme.indexOf('<!-- config:start -->'), readme.indexOf('<!-- config:end -->'));
  const rows = [...table.matchAll(/^\| `(\w+)` \| (\d+|true|false) \|/gm)].map((m) => [
    m[1],
    m[2] === 'true' ? true : m[2] === 'false' ? false : Number(m[2]),
  ]);
  t.deepEqual(Object.fromEntries(rows), { ...DEFAULT_CONFIG });
});
