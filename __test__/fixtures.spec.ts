/** The committed copies of ../shared data are byte-identical to the reference. */
import { readFileSync } from 'node:fs';
import test from 'ava';
import { FIXTURE_CORPUS, FIXTURE_VECTORS, hasShared, SHARED_CORPUS, SHARED_VECTORS } from './helpers/vectors.js';

// Outside our CI (release runners) ../shared does not exist and the fixtures are the reference;
// wherever ../shared exists, each copy must match it.
if (hasShared) {
  for (const [copy, reference] of [
    [FIXTURE_VECTORS, SHARED_VECTORS],
    [FIXTURE_CORPUS, SHARED_CORPUS],
  ] as const) {
    test(`${copy.split('/').pop()} is ../shared's, byte for byte`, (t) => {
      t.true(readFileSync(copy).equals(readFileSync(reference)));
    });
  }
}
