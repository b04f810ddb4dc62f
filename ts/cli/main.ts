#!/usr/bin/env node
/**
 * `discv5`: the command-line face of discv5-native. Every command has --help; success exits 0,
 * failure exits non-zero with a one-line reason on stderr (2 for bad arguments).
 */
import { parseArgs } from 'node:util';
import { Discv5Error } from '../index.js';
import { UsageError } from './args.js';
import { crawlCommand } from './commands/crawl.js';
import { enrCreate, enrDecode } from './commands/enr.js';
import { keygen } from './commands/keygen.js';
import { monitorCommand } from './commands/monitor.js';
import { findnode, type Out, ping, runTestnet, talk } from './commands/net.js';
import { NODES_FILTER_COMMAND } from './commands/nodes.js';
import { REPORT_COMMAND, reportCommand } from './commands/report.js';
import { serve } from './commands/serve.js';

type Options = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

interface Command {
  usage: string;
  summary: string;
  options: Options;
  run(positionals: string[], values: Record<string, unknown>, out: Out): Promise<void> | void;
}

const json = { json: { type: 'boolean' as const } };
const bind = { bind: { type: 'string' as const } };
/** What a crawl takes, for `crawl` and `testnet --crawl` alike. */
const crawlOptions = {
  out: { type: 'string' as const },
  'nodes-json': { type: 'string' as const },
  concurrency: { type: 'string' as const },
  mode: { type: 'string' as const },
  identities: { type: 'string' as const },
  db: { type: 'string' as const },
  vantage: { type: 'string' as const },
};

/** What a crawl of a real network takes (`crawl` and `monitor`): seeds, limits, and the rest. */
const crawlFromSeeds = {
  bootnodes: { type: 'string' as const },
  'dns-server': { type: 'string' as const },
  'bootnodes-file': { type: 'string' as const },
  network: { type: 'string' as const },
  reseed: { type: 'string' as const },
  timeout: { type: 'string' as const },
  'fork-digest': { type: 'string' as const },
  'max-nodes': { type: 'string' as const },
  'max-nodes-per-ip': { type: 'string' as const },
  ...crawlOptions,
  ...bind,
};

const COMMANDS: Record<string, Command> = {
  keygen: {
    usage: 'discv5 keygen [--out FILE]',
    summary: 'a new secp256k1 private key (64 hex characters); --out writes it to a new file (mode 0600)',
    options: { out: { type: 'string' } },
    run: (_p, v, out) => out.line(keygen(v.out as string | undefined)),
  },
  'enr decode': {
    usage: 'discv5 enr decode <enr> [--json]',
    summary: "every field of a record and its signature's validity; an invalid record exits non-zero",
    options: { ...json },
    run: (p, v, out) => out.line(enrDecode({ positionals: p, json: v.json === true })),
  },
  'enr create': {
    usage: 'discv5 enr create --key FILE [--ip IP] [--udp PORT] [--tcp PORT] [--eth2 HEX] [--seq N]',
    summary: 'a signed "v4" record for the key in FILE',
    options: {
      key: { type: 'string' },
      ip: { type: 'string' },
      udp: { type: 'string' },
      tcp: { type: 'string' },
      eth2: { type: 'string' },
      seq: { type: 'string' },
    },
    run: (_p, v, out) => out.line(enrCreate(v as Record<string, string | undefined>)),
  },
  ping: {
    usage: 'discv5 ping <enr|enode://...> [--enr] [--json] [--bind IP:PORT]',
    summary:
      'PING a node (discv5, or discv4 for an enode:// URL): its record seq, how it sees us, and the round trip; --enr prints its current record too (discv4: ENRREQUEST)',
    options: { enr: { type: 'boolean' }, ...json, ...bind },
    run: ping,
  },
  findnode: {
    usage: 'discv5 findnode <enr> --distances 256,255,254 | <enode://...> [--target HEX] [--json] [--bind IP:PORT]',
    summary:
      'FINDNODE: the records a node holds at those log-distances, one per line; for an enode:// URL (discv4, bonding first) the nodes it knows closest to --target (a 64-byte public key; default its own), as enode:// URLs, one per line',
    options: { distances: { type: 'string' }, target: { type: 'string' }, ...json, ...bind },
    run: findnode,
  },
  talk: {
    usage: 'discv5 talk <enr> <protocol> <hex> [--bind IP:PORT]',
    summary: 'TALKREQ: prints the response as hex',
    options: { ...bind },
    run: talk,
  },
  serve: {
    usage:
      'discv5 serve --listen IP:PORT [--key FILE] [--data-dir DIR] [--bootnodes ENR,...] [--network mainnet|sepolia|holesky|hoodi] [--discv4 [--discv4-bootnodes ENODE,...]] [--metrics [IP:]PORT] [--json] [--status-every S]',
    summary:
      'a long-running node (a bootnode): prints its record first, then logs events and a status line every 30 s (--json: JSON lines); --data-dir keeps its key, seq and table across restarts; --network adds its published bootnodes; --discv4 serves Discovery v4 on the same port and key and prints its enode:// URL after the record; --metrics serves Prometheus text at /metrics (loopback unless IP given); Ctrl-C stops it',
    options: {
      listen: { type: 'string' },
      key: { type: 'string' },
      bootnodes: { type: 'string' },
      network: { type: 'string' },
      discv4: { type: 'boolean' },
      'discv4-bootnodes': { type: 'string' },
      'data-dir': { type: 'string' },
      metrics: { type: 'string' },
      'status-every': { type: 'string' },
      ...json,
    },
    run: (_p, v, out) => serve(v, out),
  },
  testnet: {
    usage:
      'discv5 testnet --nodes N [--transport udp|memory] [--base-port P] [--discv4] [--prefill [--processes P] [--dead F] [--latency MIN-MAX] [--loss F] [--nat F] [--rate-limit N] [--foreign F]] [--seed N] [--truth F.json] [--crawl [--mode full|fast] [--identities N] [--out F.ndjson] [--nodes-json F] [--db FILE|postgres://URL] [--vantage NAME]]',
    summary:
      'N nodes on loopback in one process, prefilled as a converged network (--prefill, ready in seconds, with faults of the internet) or bootstrapped; --discv4: every node serves discv4 too (same socket and key); prints the bootnode record first (then its enode:// URL with --discv4); --truth writes the ground truth; --crawl crawls it, scores the crawl and stops',
    options: {
      nodes: { type: 'string' },
      transport: { type: 'string' },
      'base-port': { type: 'string' },
      discv4: { type: 'boolean' },
      prefill: { type: 'boolean' },
      processes: { type: 'string' },
      dead: { type: 'string' },
      latency: { type: 'string' },
      loss: { type: 'string' },
      nat: { type: 'string' },
      'rate-limit': { type: 'string' },
      foreign: { type: 'string' },
      seed: { type: 'string' },
      truth: { type: 'string' },
      crawl: { type: 'boolean' },
      ...crawlOptions,
    },
    run: (_p, v, out) => runTestnet(v, out),
  },
  crawl: {
    usage:
      'discv5 crawl [--discv4 | --protocols v4,v5] [--bootnodes ENR|enode://...|enrtree://KEY@DOMAIN,...] [--dns-server IP[:PORT]] [--bootnodes-file F] [--network mainnet|sepolia|holesky|hoodi] [--reseed nodes.json] [--concurrency N] [--timeout S] [--out F.ndjson] [--nodes-json F] [--fork-digest HEX] [--max-nodes N] [--max-nodes-per-ip N] [--mode full|fast] [--identities N] [--bind IP:PORT] [--db FILE|postgres://URL | --no-db] [--vantage NAME] [--resume]',
    summary:
      'enumerates a whole network: every node, its newest record, whether it answered, its neighbours; then a summary. Discovery v5 by default; --discv4 crawls Discovery v4 (execution clients: enode:// seeds, --network gives the go-ethereum bootnodes), --protocols v4,v5 both at once from the same sockets. Records into a database as it goes: SQLite --db FILE (default discv5.db), PostgreSQL --db postgres://..., or none with --no-db; Ctrl-C or SIGTERM records the crawl as cancelled, --resume continues the last unfinished crawl of this --vantage',
    options: {
      'no-db': { type: 'boolean' },
      resume: { type: 'boolean' },
      discv4: { type: 'boolean' },
      protocols: { type: 'string' },
      ...crawlFromSeeds,
    },
    run: (_p, v, out) => crawlCommand(v, out),
  },
  'nodes filter': NODES_FILTER_COMMAND,
  report: { ...REPORT_COMMAND, run: (_p, v, out) => reportCommand(v, out) },
  monitor: {
    usage:
      "discv5 monitor [--every 10m] [--rounds N] [--metrics [IP:]PORT] [crawl's seeds and options] [--db FILE|postgres://URL] [--vantage NAME]",
    summary:
      "crawls again and again (every --every, default 10m), each crawl a row of the database, each starting from the seeds and the nodes that answered last time; logs each crawl's figures (found, answered, per network and client, record changes, nodes always up) and serves them as Prometheus gauges with --metrics; Ctrl-C ends it",
    options: {
      every: { type: 'string' },
      rounds: { type: 'string' },
      metrics: { type: 'string' },
      ...crawlFromSeeds,
    },
    run: (_p, v, out) => monitorCommand(v, out),
  },
};

function help(): string {
  const lines = Object.values(COMMANDS).flatMap((c) => [`  ${c.usage}`, `      ${c.summary}`]);
  return ['discv5: Node Discovery Protocol v5.1 tools', '', ...lines, '', 'Every command takes --help.'].join('\n');
}

const out: Out = {
  line: (text) => process.stdout.write(`${text}\n`),
  log: (text) => process.stderr.write(`${new Date().toISOString()} ${text}\n`),
};

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    out.line(help());
    return argv.length === 0 ? 2 : 0;
  }
  // Two-word commands: `enr decode`, `enr create`, `nodes filter`.
  const name =
    (argv[0] === 'enr' || argv[0] === 'nodes') && argv[1] !== undefined && !argv[1].startsWith('-')
      ? `${argv[0]} ${argv[1]}`
      : (argv[0] as string);
  const command = COMMANDS[name];
  if (command === undefined)
    throw new UsageError(`unknown command "${argv.slice(0, 2).join(' ')}" (discv5 --help lists them)`);
  const rest = argv.slice(name.split(' ').length);
  if (rest.includes('--help') || rest.includes('-h')) {
    out.line(`${command.usage}\n  ${command.summary}`);
    return 0;
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: rest, options: command.options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0] as string);
  }
  await command.run(parsed.positionals, parsed.values as Record<string, unknown>, out);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode ??= code;
  },
  (err: unknown) => {
    const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
    const code = err instanceof Discv5Error ? ` (${err.code})` : '';
    process.stderr.write(`discv5: ${message}${code}\n`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  },
);
