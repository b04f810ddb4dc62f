/** UDP on loopback: IPv6, dual stack, large buffers, and clean release of sockets. */
import { existsSync, readFileSync } from 'node:fs';
import test, { type ExecutionContext } from 'ava';
import { Discv5, UdpTransport } from '../ts/index.js';
import { DEFAULT_SOCKET_BUFFER } from '../ts/transport/udp.js';
import { envCrypto } from './helpers/nodes.js';

async function node(t: ExecutionContext, bind: ConstructorParameters<typeof UdpTransport>[0]) {
  const n = await Discv5.create({
    privateKey: envCrypto.generatePrivateKey(),
    crypto: envCrypto,
    transport: new UdpTransport(bind),
  });
  await n.start();
  t.teardown(() => n.stop());
  return n;
}

test('IPv6 loopback: records carry ip6/udp6 and nodes talk over it', async (t) => {
  const a = await node(t, { ip6: { ip: '::1', port: 0 } });
  const b = await node(t, { ip6: { ip: '::1', port: 0 } });
  t.is(b.localEnr.ip6, '::1');
  t.is(b.localEnr.ip, undefined);
  const pong = await a.ping(b.localEnr);
  t.is(pong.ip, '::1');
  t.is(pong.port, a.addresses[0]?.port as number);
});

test('dual stack: one node on IPv4 and IPv6, reached over each family', async (t) => {
  const dual = await node(t, { ip4: { ip: '127.0.0.1', port: 0 }, ip6: { ip: '::1', port: 0 } });
  t.deepEqual(dual.addresses.map((a) => a.family).sort(), [4, 6]);
  t.is(dual.localEnr.ip, '127.0.0.1');
  t.is(dual.localEnr.ip6, '::1');
  const v4 = await node(t, { ip4: { ip: '127.0.0.1', port: 0 } });
  const v6 = await node(t, { ip6: { ip: '::1', port: 0 } });
  t.is((await v4.ping(dual.localEnr)).ip, '127.0.0.1');
  t.is((await v6.ping(dual.localEnr)).ip, '::1');
});

test('sockets ask for 4 MiB buffers, and the kernel grants what net.core.rmem_max allows', async (t) => {
  const transport = new UdpTransport({ ip4: { ip: '127.0.0.1', port: 0 } });
  await transport.start();
  t.teardown(() => transport.stop());
  const [sizes] = transport.bufferSizes();
  t.is(DEFAULT_SOCKET_BUFFER, 4 * 1024 * 1024);
  // Linux grants min(asked, rmem_max) (and reports double that); elsewhere, at least far above 20 KiB.
  const cap = (name: string) => {
    const f = `/proc/sys/net/core/${name}`;
    return existsSync(f) ? Number(readFileSync(f, 'utf8')) : 64 * 1024;
  };
  t.true((sizes?.receive ?? 0) >= Math.min(DEFAULT_SOCKET_BUFFER, cap('rmem_max')), `receive buffer ${sizes?.receive}`);
  t.true((sizes?.send ?? 0) >= Math.min(DEFAULT_SOCKET_BUFFER, cap('wmem_max')), `send buffer ${sizes?.send}`);
});

test('stop releases the port: the same address can be bound again', async (t) => {
  const first = new UdpTransport({ ip4: { ip: '127.0.0.1', port: 0 } });
  await first.start();
  const port = first.addresses[0]?.port as number;
  await first.stop();
  t.deepEqual(first.addresses, []);
  const second = new UdpTransport({ ip4: { ip: '127.0.0.1', port } });
  await second.start();
  t.is(second.addresses[0]?.port, port);
  await second.stop();
});
