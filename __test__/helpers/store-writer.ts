/**
 * A child process for store.spec.ts's kill -9 test: opens `<argv[2]>/node.db` and writes batches in a
 * loop, forever; after batch i is committed (its nodes and seq = i), prints `i` on stdout and waits
 * until the line has reached the pipe, so every number the parent reads was committed first. Ends
 * by itself when its stdin closes (the parent is gone), so a failed test leaves no writer behind.
 */
import process from 'node:process';
import { NodeStore, type StoredNode } from '../../ts/store/node-store.js';

export const NODES_PER_BATCH = 16;

/** Node j of batch i: its id says both (bytes 0-3 = i, byte 31 = j), its record 200 bytes of (i + j). */
export function batchNode(i: number, j: number): StoredNode {
  const nodeId = new Uint8Array(32);
  new DataView(nodeId.buffer).setUint32(0, i);
  nodeId[31] = j;
  return { nodeId, enr: new Uint8Array(200).fill((i + j) % 256), live: j % 2 === 0, lastSeen: i, inTable: j < 4 };
}

async function main(dir: string): Promise<void> {
  process.stdin.on('close', () => process.exit(0)).resume();
  const store = NodeStore.open(dir);
  for (let i = 1; i < 1_000_000; i++) {
    store.writeNodes(Array.from({ length: NODES_PER_BATCH }, (_, j) => batchNode(i, j)));
    store.setSeq(BigInt(i));
    await new Promise<void>((resolve) => process.stdout.write(`${i}\n`, () => resolve()));
  }
  store.close();
}

if (process.argv[2] !== undefined && process.argv[1]?.endsWith('store-writer.ts')) {
  main(process.argv[2]).catch((err: unknown) => {
    process.stderr.write(`store-writer: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
