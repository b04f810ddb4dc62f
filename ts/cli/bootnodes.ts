/**
 * The bootnodes of the public networks for the CLI: the consensus layer's discv5 records, shipped in
 * data/bootnodes.json, and the execution layer's discv4 enode URLs (`EXECUTION_BOOTNODES`).
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXECUTION_BOOTNODES } from '../discv4/bootnodes.js';
import { UsageError } from './args.js';

export const NETWORKS = ['mainnet', 'sepolia', 'holesky', 'hoodi'] as const;
export type NetworkName = (typeof NETWORKS)[number];

/** A `--network` value, checked. */
export function networkName(text: string): NetworkName {
  if (!(NETWORKS as readonly string[]).includes(text))
    throw new UsageError(`--network must be one of ${NETWORKS.join(', ')}`);
  return text as NetworkName;
}

/** The consensus-layer discv5 bootnode records (`enr:`) of a network. */
export function consensusBootnodes(network: NetworkName): string[] {
  // data/ sits beside dist/ in the package (this code is bundled into dist/), and beside ts/ in a checkout.
  for (const up of ['../data/bootnodes.json', '../../data/bootnodes.json']) {
    try {
      const doc = JSON.parse(readFileSync(resolve(dirname(fileURLToPath(import.meta.url)), up), 'utf8'));
      return doc.networks[network] ?? [];
    } catch {}
  }
  throw new UsageError('bundled bootnode data not found');
}

/** The execution-layer discv4 bootnodes (`enode://`) of a network, as go-ethereum ships them. */
export function executionBootnodes(network: NetworkName): string[] {
  return [...EXECUTION_BOOTNODES[network]];
}
