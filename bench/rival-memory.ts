/**
 * @chainsafe/discv5 11.0.0 on our in-memory network: an ITransportService that encodes and
 * decodes with the rival's own packet codec, so that its whole protocol stack runs unchanged
 * and only the socket is replaced. `busyNs` adds up the time spent in the rival's synchronous
 * handling of each inbound packet (its decode, session and crypto work).
 */
import { EventEmitter } from 'node:events';
import type { ITransportService } from '@chainsafe/discv5';
import { decodePacket, encodePacket } from '@chainsafe/discv5/packet';
import { getSocketAddressOnENR } from '@chainsafe/discv5/util';
import type { BaseENR } from '@chainsafe/enr';
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr-12';
import type { MemoryNetwork, MemoryTransport } from '../ts/index.js';

export class RivalMemoryTransport extends EventEmitter implements ITransportService {
  readonly bindAddrs: Multiaddr[];
  readonly ipMode = { ip4: true, ip6: false } as const;
  readonly #transport: MemoryTransport;
  readonly #srcId: string;
  busyNs = 0n;

  constructor(network: MemoryNetwork, nodeIdHex: string) {
    super();
    this.#transport = network.transport();
    this.#srcId = nodeIdHex;
    this.bindAddrs = [multiaddr(`/ip4/${this.#transport.address.ip}/udp/${this.#transport.address.port}`)];
  }

  get address() {
    return this.#transport.address;
  }

  async start(): Promise<void> {
    this.#transport.onPacket((data, from) => {
      const started = process.hrtime.bigint();
      const src = multiaddr(`/ip4/${from.ip}/udp/${from.port}`);
      try {
        this.emit('packet', src, decodePacket(this.#srcId, data));
      } catch (err) {
        this.emit('decodeError', err as Error, src);
      } finally {
        this.busyNs += process.hrtime.bigint() - started;
      }
    });
    await this.#transport.start();
  }

  async stop(): Promise<void> {
    await this.#transport.stop();
  }

  async send(to: Multiaddr, toId: string, packet: Parameters<typeof encodePacket>[1]): Promise<void> {
    const o = to.toOptions();
    this.#transport.send(encodePacket(toId, packet), { ip: o.host, port: o.port, family: 4 });
  }

  getContactableAddr(enr: BaseENR) {
    return getSocketAddressOnENR(enr, this.ipMode);
  }
}
