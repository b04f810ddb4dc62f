/**
 * Interoperability with @chainsafe/enr 5.0.0, the record library of the TypeScript ecosystem:
 * records it makes decode identically here, ours decode identically there, and both sign the same
 * entries into the same bytes (RFC 6979 signatures are deterministic).
 */
import { ENR, SignableENR } from '@chainsafe/enr';
import { Enr, multiaddrsOf, peerIdOf } from '../ts/index.js';
import { fromHex, toHex } from '../ts/util/bytes.js';
import { bothBackends } from './helpers/backends.js';
import { Rng } from './helpers/random.js';

const rng = new Rng(778);

bothBackends('records made by @chainsafe/enr decode identically here', (t, c) => {
  for (let i = 0; i < 20; i++) {
    const key = rng.privateKey();
    const theirs = SignableENR.createV4(key);
    theirs.ip = `10.${i}.0.1`;
    theirs.udp = 9000 + i;
    theirs.tcp = 13000 + i;
    if (i % 2 === 0) {
      theirs.ip6 = `2001:db8::${i + 1}`;
      theirs.udp6 = 9090;
      theirs.quic = 9001;
    }
    theirs.set('eth2', fromHex(`b5303f2a01000000${'ff'.repeat(8)}`));
    theirs.set('attnets', fromHex('0000000000000001'));
    const text = theirs.encodeTxt();
    const ours = Enr.decode(text, c);
    t.is(ours.text, text);
    t.is(ours.nodeIdHex, theirs.nodeId);
    t.is(ours.ip, theirs.ip);
    t.is(ours.ip6, theirs.ip6);
    t.is(ours.udp, theirs.udp);
    t.is(ours.tcp, theirs.tcp);
    t.is(ours.udp6, theirs.udp6);
    t.is(ours.quic, theirs.quic);
    t.is(ours.eth2?.nextForkEpoch, 0xffff_ffff_ffff_ffffn);
    t.deepEqual(ours.attnets?.indices(), [56]);
    t.is(peerIdOf(ours.publicKey), theirs.peerId.toString());
  }
});

bothBackends('records made here decode identically in @chainsafe/enr, and are the very same bytes', (t, c) => {
  for (let i = 0; i < 20; i++) {
    const key = rng.privateKey();
    const ours = Enr.create(
      key,
      {
        ip: `192.168.${i}.7`,
        udp: 30303,
        tcp: 30304 + i,
        ...(i % 3 === 0 ? { ip6: '::1', udp6: 30305, quic6: 30306 } : {}),
        other: { custom: fromHex('deadbeef') },
      },
      c,
      BigInt(i + 1),
    );
    const theirs = ENR.decodeTxt(ours.text);
    t.is(theirs.nodeId, ours.nodeIdHex);
    t.is(theirs.seq, ours.seq);
    t.is(theirs.ip, ours.ip);
    t.is(theirs.udp, ours.udp);
    t.is(theirs.tcp, ours.tcp);
    t.is(theirs.ip6, ours.ip6);
    t.is(theirs.udp6, ours.udp6);
    t.is(toHex(theirs.kvs.get('custom') as Uint8Array), 'deadbeef');
    t.is(theirs.encodeTxt(), ours.text);
    t.is(theirs.peerId.toString(), peerIdOf(ours.publicKey));
    t.is(theirs.getLocationMultiaddr('udp')?.toString(), multiaddrsOf(ours)[0]?.multiaddr);

    // The same entries signed by both libraries: identical records.
    const signable = SignableENR.createV4(key);
    signable.ip = ours.ip;
    signable.udp = ours.udp;
    signable.tcp = ours.tcp;
    if (ours.ip6 !== undefined) {
      signable.ip6 = ours.ip6;
      signable.udp6 = ours.udp6;
      signable.set('quic6', ours.getRaw('quic6')?.subarray(1) as Uint8Array);
    }
    signable.set('custom', fromHex('deadbeef'));
    signable.seq = BigInt(i + 1); // last: each setter above bumps seq
    t.is(signable.encodeTxt(), ours.text);
  }
});
