/**
 * UDP on node:dgram: one socket per address family (IPv4, IPv6, or both for dual stack), with
 * large kernel buffers. A small receive buffer is what makes a node drop bursts (the rival's
 * 20 KiB loses packets past ~45 at once); the default here is 4 MiB each way.
 */
import { createSocket, type Socket } from 'node:dgram';
import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns';
import { isIP } from 'node:net';
import { createLogger } from '../util/logger.js';
import { socketAddress } from './address.js';
import type { PacketHandler, SocketAddress, Transport } from './types.js';

export interface UdpTransportOptions {
  /** IPv4 address to bind (e.g. "0.0.0.0" or "127.0.0.1"). */
  ip4?: { ip: string; port: number };
  /** IPv6 address to bind (e.g. "::" or "::1"); bound IPv6-only so that it can share a port with ip4. */
  ip6?: { ip: string; port: number };
  /** Kernel receive buffer in bytes (default 4 MiB). */
  receiveBufferSize?: number;
  /** Kernel send buffer in bytes (default 4 MiB). */
  sendBufferSize?: number;
}

export const DEFAULT_SOCKET_BUFFER = 4 * 1024 * 1024;

const log = createLogger('discv5:transport');

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;

/**
 * dgram resolves every send's address through a lookup function, by default dns.lookup, which
 * defers through the event loop even for a literal IP: measured here, 8% of a busy node's CPU.
 * We only ever send to literal IPs, so they are answered at once; anything else (a bind to a host
 * name) goes to dns.lookup as before.
 */
function literalLookup(hostname: string, options: number | LookupOneOptions, callback: LookupCallback): void {
  const family = isIP(hostname);
  if (family !== 0) callback(null, hostname, family);
  else dnsLookup(hostname, typeof options === 'number' ? { family: options } : options, callback);
}

export class UdpTransport implements Transport {
  readonly #options: UdpTransportOptions;
  readonly #sockets = new Map<4 | 6, Socket>();
  #addresses: SocketAddress[] = [];
  #handler: PacketHandler = () => {};
  #errorHandler: (err: Error) => void = () => {};

  constructor(options: UdpTransportOptions) {
    if (options.ip4 === undefined && options.ip6 === undefined) throw new TypeError('bind at least one of ip4, ip6');
    this.#options = options;
  }

  get addresses(): readonly SocketAddress[] {
    return this.#addresses;
  }

  /** The kernel's actual buffer sizes (it may cap or double what was asked), per family. */
  bufferSizes(): { family: 4 | 6; receive: number; send: number }[] {
    return [...this.#sockets].map(([family, s]) => ({
      family,
      receive: s.getRecvBufferSize(),
      send: s.getSendBufferSize(),
    }));
  }

  onPacket(handler: PacketHandler): void {
    this.#handler = handler;
  }

  onError(handler: (err: Error) => void): void {
    this.#errorHandler = handler;
  }

  async start(): Promise<void> {
    const binds: [4 | 6, { ip: string; port: number }][] = [];
    if (this.#options.ip4) binds.push([4, this.#options.ip4]);
    if (this.#options.ip6) binds.push([6, this.#options.ip6]);
    try {
      for (const [family, bind] of binds) {
        const socket = createSocket({
          type: family === 4 ? 'udp4' : 'udp6',
          ipv6Only: family === 6,
          lookup: literalLookup as never,
          recvBufferSize: this.#options.receiveBufferSize ?? DEFAULT_SOCKET_BUFFER,
          sendBufferSize: this.#options.sendBufferSize ?? DEFAULT_SOCKET_BUFFER,
        });
        socket.on('message', (msg, rinfo) => {
          // A handler that throws must not take the socket down; the layers above count their drops.
          try {
            this.#handler(msg, socketAddress(rinfo.address, rinfo.port));
          } catch (err) {
            this.#errorHandler(err as Error);
          }
        });
        socket.on('error', (err) => this.#errorHandler(err));
        await new Promise<void>((resolve, reject) => {
          socket.once('error', reject);
          socket.bind(bind.port, bind.ip, () => {
            socket.off('error', reject);
            resolve();
          });
        });
        this.#sockets.set(family, socket);
      }
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.#addresses = [...this.#sockets].map(([, s]) => {
      const a = s.address();
      return socketAddress(a.address, a.port);
    });
    // The kernel caps buffers at net.core.rmem_max / wmem_max (Linux reports twice what it grants).
    const wanted = this.#options.receiveBufferSize ?? DEFAULT_SOCKET_BUFFER;
    for (const b of this.bufferSizes()) {
      if (b.receive < wanted) {
        log.debug(
          `IPv${b.family} receive buffer is ${b.receive} bytes, below the ${wanted} asked: raise net.core.rmem_max`,
        );
      }
    }
  }

  send(data: Uint8Array, to: SocketAddress): void {
    const socket = this.#sockets.get(to.family);
    if (socket === undefined) {
      this.#errorHandler(new Error(`no IPv${to.family} socket to send to ${to.ip}`));
      return;
    }
    socket.send(data, to.port, to.ip, (err) => {
      if (err) this.#errorHandler(err);
    });
  }

  async stop(): Promise<void> {
    const closing = [...this.#sockets.values()].map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    this.#sockets.clear();
    this.#addresses = [];
    await Promise.all(closing);
  }
}
