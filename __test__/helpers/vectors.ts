/** The spec's test vectors (../shared/spec/vectors.json), read once. */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** Where ../shared lies: DISCV5_SHARED, else beside the checkout. */
export const SHARED_DIR = process.env.DISCV5_SHARED ?? resolve(here, '../../../shared');

// biome-ignore lint/suspicious/noExplicitAny: the vector file is JSON of a known but loose shape
export type Json = any;

export const vectors: Json = JSON.parse(readFileSync(resolve(SHARED_DIR, 'spec/vectors.json'), 'utf8'));
