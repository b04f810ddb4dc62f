#!/usr/bin/env node
// @ts-check
/**
 * One command: a 50-node discv5 testnet on loopback and 4 consensus-layer peer finders that find
 * each other through it, form a gossipsub mesh and exchange messages. Ctrl-C stops everything.
 *
 *   node examples/cl-peer-finder/run-local.mjs [--instances 4] [--nodes 50] [--duration S] [--json] [-- app options]
 */
import { runLocal } from '../shared/local-net.mjs';

await runLocal({
  name: 'cl-peer-finder',
  script: import.meta.url,
  app: new URL('./peer-finder.mjs', import.meta.url),
  // A small local network: search and publish every second, a status line every 5 s.
  appDefaults: ['--search-interval', '1', '--publish-every', '1', '--status-every', '5'],
});
