#!/usr/bin/env node
// @ts-check
/**
 * One command: a 50-node discv5 testnet on loopback and 4 peer trackers that find each other
 * through it and keep their connections. Ctrl-C stops everything.
 *
 *   node examples/peer-tracker/run-local.mjs [--instances 4] [--nodes 50] [--duration S] [--json] [-- app options]
 */
import { runLocal } from '../shared/local-net.mjs';

await runLocal({
  name: 'peer-tracker',
  script: import.meta.url,
  app: new URL('./peer-tracker.mjs', import.meta.url),
  // A small local network: search every second, print the connected set every 3 s.
  appDefaults: ['--search-interval', '1', '--every', '3'],
});
