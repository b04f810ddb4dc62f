/**
 * The spec's test vectors and the ENR corpus. ../shared is the reference; byte-identical copies
 * live in __test__/fixtures so that the suite also runs where ../shared is absent (release
 * runners). fixtures.spec.ts fails if a copy ever drifts from ../shared.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** Where ../shared lies: DISCV5_SHARED, else beside the checkout. */
export const SHARED_DIR = process.env.DISCV5_SHARED ?? resolve(here, '../../../shared');
export const SHARED_VECTORS = resolve(SHARED_DIR, 'spec/vectors.json');
export const FIXTURE_VECTORS = resolve(here, '../fixtures/vectors.json');
export const hasShared = existsSync(SHARED_VECTORS);

/** The vector file to read: the reference where it exists, else its committed copy. */
export const VECTORS_PATH = hasShared ? SHARED_VECTORS : FIXTURE_VECTORS;

// biome-ignore lint/suspicious/noExplicitAny: the vector file is JSON of a known but loose shape
export type Json = any;

export const vectors: Json = JSON.parse(readFileSync(VECTORS_PATH, 'utf8'));

export const SHARED_CORPUS = resolve(SHARED_DIR, 'corpus/real-enrs.json');
export const FIXTURE_CORPUS = resolve(here, '../fixtures/real-enrs.json');
/** Real-world records with their decoded fields, and invalid ones (../shared/corpus/README.md). */
export const corpus: Json = JSON.parse(readFileSync(hasShared ? SHARED_CORPUS : FIXTURE_CORPUS, 'utf8'));
