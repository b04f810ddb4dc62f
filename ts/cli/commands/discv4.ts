/**
 * `discv5 ping enode://...` and `discv5 findnode enode://...`: the same commands for Discovery v4
 * nodes, through a short-lived node that serves both protocols. FINDNODE bonds first (our PING
 * answered, then a moment for the node's PING back), as go-ethereum nodes require.
 */
import { createCrypto, type Discv5, V4Node } from '../../index.js';
import { parseHex, UsageError } from '../args.js';
import { withClient } from './client.js';
import type { Out } from './net.js';

/** Whether a positional names a discv4 node (the scheme is case-insensitive, as parseEnode's). */
export function isEnode(text: string | undefined): text is string {
  return text !== undefined && text.slice(0, 8).toLowerCase() === 'enode://';
}

/** The node an enode:// URL names; a malformed URL is a usage error. */
function enodeTarget(url: string): V4Node {
  try {
    return V4Node.fromEnode(createCrypto(), url);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** The client node, serving discv4 too. */
const withV4Client = <T>(bind: string | undefined, fn: (node: Discv5) => Promise<T>): Promise<T> =>
  withClient(bind, fn, { discv4: true });

const v4Of = (node: Discv5) => node.discv4 as NonNullable<Discv5['discv4']>;

/** PING (and with --enr, ENRREQUEST): its record seq, how it sees us, the round trip (and its record). */
export async function pingEnode(url: string, v: Record<string, unknown>, out: Out): Promise<void> {
  const target = enodeTarget(url);
  await withV4Client(v.bind as string | undefined, async (node) => {
    const pong = await v4Of(node).ping(target);
    // ENRREQUEST needs the endpoint proof both ways: requestEnr bonds (the PING above counts).
    const record = v.enr === true ? await v4Of(node).requestEnr(target) : undefined;
    const seq = pong.enrSeq === undefined ? null : pong.enrSeq.toString();
    if (v.json) {
      out.line(
        JSON.stringify({
          nodeId: target.nodeIdHex,
          enrSeq: seq,
          ip: pong.to.ip,
          port: pong.to.udp,
          tcp: pong.to.tcp,
          rttMs: Math.round(pong.rttMs),
          ...(record !== undefined ? { enr: record.text } : {}),
        }),
      );
      return;
    }
    const seen = `${pong.to.ip ?? '(no IP)'}:${pong.to.udp}`;
    out.line(
      `pong from ${target.nodeIdHex}: record seq ${seq ?? 'not given'}, sees us at ${seen}, ${pong.rttMs.toFixed(1)} ms`,
    );
    if (record !== undefined) out.line(record.text);
  });
}

/** FINDNODE: the nodes it knows closest to --target (default: its own key), as enode URLs, one per line. */
export async function findnodeEnode(url: string, v: Record<string, unknown>, out: Out): Promise<void> {
  if (v.distances !== undefined) throw new UsageError('--distances is for enr: targets; a discv4 node takes --target');
  const target = enodeTarget(url);
  const key = v.target === undefined ? target.publicKey : parseHex(v.target as string, '--target');
  if (key.length !== 64) throw new UsageError('--target must be a 64-byte public key (128 hex characters)');
  await withV4Client(v.bind as string | undefined, async (node) => {
    const found = await v4Of(node).findNode(target, key);
    for (const n of found)
      out.line(
        v.json
          ? JSON.stringify({ nodeId: n.nodeIdHex, enode: n.enode, ip: n.address, udp: n.udp, tcp: n.tcp })
          : n.enode,
      );
    out.log(`${found.length} node${found.length === 1 ? '' : 's'}`);
  });
}
