/** A transport wrapper that adds up the time its owner spends handling inbound packets. */
import type { PacketHandler, SocketAddress, Transport } from '../ts/transport/types.js';

export class TimedTransport implements Transport {
  readonly #inner: Transport;
  busyNs = 0n;

  constructor(inner: Transport) {
    this.#inner = inner;
  }

  get addresses(): readonly SocketAddress[] {
    return this.#inner.addresses;
  }

  start(): Promise<void> {
    return this.#inner.start();
  }

  stop(): Promise<void> {
    return this.#inner.stop();
  }

  send(data: Uint8Array, to: SocketAddress): void {
    this.#inner.send(data, to);
  }

  onPacket(handler: PacketHandler): void {
    this.#inner.onPacket((data, from) => {
      const started = process.hrtime.bigint();
      try {
        handler(data, from);
      } finally {
        this.busyNs += process.hrtime.bigint() - started;
      }
    });
  }

  onError(handler: (err: Error) => void): void {
    this.#inner.onError(handler);
  }
}
