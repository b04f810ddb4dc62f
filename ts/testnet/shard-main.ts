/** Entry point of a sharded testnet's process: `node shard-main.js '<ShardSpec JSON>'` (see shard.ts). */
import { runShard, type ShardSpec } from './shard.js';

const spec = JSON.parse(process.argv[2] ?? '{}') as ShardSpec;
runShard(spec).then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`testnet shard ${spec.from}-${spec.to}: ${String(err)}\n`);
    process.exit(1);
  },
);
