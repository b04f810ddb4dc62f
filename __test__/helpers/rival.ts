/** A @chainsafe/discv5 11.0.0 node on UDP loopback, for interop specs and the lookup benchmark. */
import { createSocket, type Socket } from 'node:dgram';
import { Discv5 as RivalDiscv5 } from '@chainsafe/discv5';
import { SignableENR } from '@chainsafe/enr';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { multiaddr } from '@multiformats/multiaddr-12';

/** The rival's settings (its config type is not exported from the package root). */
export type RivalConfig = NonNullable<Parameters<typeof RivalDiscv5.create>[0]['config']>;

/** A free UDP port (the rival's record must name its port before it binds). */
export async function freePort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Starts a rival node on 127.0.0.1 (`config` adds to its defaults); the caller stops it. */
export async function startRival(config: RivalConfig = {}): Promise<RivalDiscv5> {
  // Two copies of @libp2p/interface in the tree give the same key two types; the value is the same.
  const privateKey = (await generateKeyPair('secp256k1')) as unknown as Parameters<
    typeof SignableENR.createFromPrivateKey
  >[0];
  const port = await freePort();
  const enr = SignableENR.createFromPrivateKey(privateKey);
  enr.ip = '127.0.0.1';
  enr.udp = port;
  const node = RivalDiscv5.create({
    enr,
    privateKey,
    bindAddrs: { ip4: multiaddr(`/ip4/127.0.0.1/udp/${port}`) },
    config,
  });
  await node.start();
  return node;
}

/**
 * Gives a rival's socket the receive buffer ours asks for (4 MiB). With the system default (208 KiB
 * here) it loses datagrams whenever its event loop falls behind, and then whole requests to its
 * timeouts; in a benchmark its CPU, not its socket, should be what is measured.
 */
export function widenReceiveBuffer(node: RivalDiscv5): void {
  // The socket is private in the rival's types, and reachable at run time.
  const transport = node.sessionService.transport as unknown as { ip4?: { socket?: Socket } };
  transport.ip4?.socket?.setRecvBufferSize(4 * 1024 * 1024);
}
