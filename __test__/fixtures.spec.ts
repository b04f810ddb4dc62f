/** The committed copies of ../shared data are byte-identical to the reference. */
import { readFileSync } from 'node:fs';
import test from 'ava';
import { FIXTURE_VECTORS, hasShared, SHARED_VECTORS } from './helpers/vectors.js';

// Outside our CI (release runners) ../shared does not exist and the fixture is the reference;
// wherever ../shared exists, the copy must match it.
if (hasShared) {
  test('__test__/fixtures/vectors.json is ../shared/spec/vectors.json, byte for byte', (t) => {
    t.true(readFileSync(FIXTURE_VECTORS).equals(readFileSync(SHARED_VECTORS)));
  });
}
