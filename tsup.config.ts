import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'ts/index.ts', js: 'ts/js.ts', libp2p: 'ts/libp2p/index.ts', cli: 'ts/cli/main.ts', 'testnet-shard': 'ts/testnet/shard-main.ts' },
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  dts: true,
  tsconfig: 'tsconfig.build.json',
  sourcemap: true,
  clean: true,
  splitting: true,
  // The napi loader is resolved at run time through package.json "imports".
  external: ['#binding'],
});
