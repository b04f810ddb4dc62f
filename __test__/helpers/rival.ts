/** A @chainsafe/discv5 11.0.0 node on UDP loopback, for interop specs and the lookup benchmark. */
import { createSocket } from 'node:dgram';
import { Discv5 as RivalDiscv5 } from '@chainsafe/discv5';
import { SignableENR } from '@chainsafe/enr';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { multiaddr } from '@multiformats/multiaddr';

/** A free UDP port (the rival's record must name its port before it binds). */
export async function freePort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Starts a rival node on 127.0.0.1; the caller stops it. */
export async function startRival(): Promise<RivalDiscv5> {
  // Two copies of @libp2p/interface in the tree give the same key two types; the value is the same.
  const privateKey = (await generateKeyPair('secp256k1')) as unknown as Parameters<
    typeof SignableENR.createFromPrivateKey
  >[0];
  const port = await freePort();
  const enr = SignableENR.createFromPrivateKey(privateKey);
  enr.ip = '127.0.0.1';
  enr.udp = port;
  const node = RivalDiscv5.create({ enr, privateKey, bindAddrs: { ip4: multiaddr(`/ip4/127.0.0.1/udp/${port}`) } });
  await node.start();
  return node;
}
