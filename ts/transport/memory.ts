/**
 * An in-memory network that many nodes in one process share: datagrams are delivered through the
 * event loop with configurable latency and loss, so protocol logic can be tested and measured at
 * scale without the kernel. Loss and latency are drawn from a seeded generator: runs repeat.
 */
import { addressKey } from './address.js';
import type { PacketHandler, SocketAddress, Transport } from './types.js';

export interface MemoryNetworkOptions {
  /** One-way delay in ms (default 0: next turn of the event loop). */
  latencyMs?: number;
  /** Extra random delay in ms, uniform in [0, jitterMs). */
  jitterMs?: number;
  /** Probability that a datagram is lost (default 0). */
  loss?: number;
  /** Seed of the loss and jitter draws. */
  seed?: number;
  /** Largest datagram carried (default 1280, the discv5 maximum; larger ones are dropped). */
  mtu?: number;
}

/** Sees every datagram before it is routed; returning false drops it (targeted loss, capture, replay). */
export type Interceptor = (data: Uint8Array, from: SocketAddress, to: SocketAddress) => boolean;

export class MemoryNetwork {
  readonly #endpoints = new Map<string, MemoryTransport>();
  #interceptor: Interceptor | undefined;
  readonly #options: Required<MemoryNetworkOptions>;
  #state: number;
  #nextPort = 10_000;
  #pending = new Set<ReturnType<typeof setTimeout>>();
  /** Datagrams delivered, lost, and sent to nobody. */
  readonly stats = { delivered: 0, lost: 0, unroutable: 0, oversized: 0 };

  constructor(options: MemoryNetworkOptions = {}) {
    this.#options = { latencyMs: 0, jitterMs: 0, loss: 0, seed: 1, mtu: 1280, ...options };
    this.#state = this.#options.seed >>> 0 || 1;
  }

  /** Changes loss and latency for what is sent from now on. */
  configure(options: Partial<Pick<MemoryNetworkOptions, 'latencyMs' | 'jitterMs' | 'loss'>>): void {
    Object.assign(this.#options, options);
  }

  /** Installs (or removes) the function that sees every datagram first. */
  intercept(interceptor: Interceptor | undefined): void {
    this.#interceptor = interceptor;
  }

  /** A transport on this network; with no port given, the next free one. */
  transport(ip = '127.0.0.1', port?: number): MemoryTransport {
    let p = port ?? this.#nextPort++;
    while (port === undefined && this.#endpoints.has(addressKey({ ip, port: p }))) p = this.#nextPort++;
    return new MemoryTransport(this, { ip, port: p, family: ip.includes(':') ? 6 : 4 });
  }

  #random(): number {
    // xorshift32
    let x = this.#state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#state = x >>> 0;
    return this.#state / 0x1_0000_0000;
  }

  /** @internal */
  attach(t: MemoryTransport): void {
    const key = addressKey(t.address);
    if (this.#endpoints.has(key)) throw new Error(`address in use: ${key}`);
    this.#endpoints.set(key, t);
  }

  /** @internal */
  detach(t: MemoryTransport): void {
    const key = addressKey(t.address);
    if (this.#endpoints.get(key) === t) this.#endpoints.delete(key);
  }

  /** @internal */
  route(data: Uint8Array, from: SocketAddress, to: SocketAddress): void {
    if (data.length > this.#options.mtu) {
      this.stats.oversized++;
      return;
    }
    if (this.#interceptor !== undefined && !this.#interceptor(data, from, to)) {
      this.stats.lost++;
      return;
    }
    if (this.#options.loss > 0 && this.#random() < this.#options.loss) {
      this.stats.lost++;
      return;
    }
    // The receiver gets its own copy, as from a socket.
    const copy = Uint8Array.from(data);
    const delay = this.#options.latencyMs + (this.#options.jitterMs > 0 ? this.#random() * this.#options.jitterMs : 0);
    const deliver = () => {
      const target = this.#endpoints.get(addressKey(to));
      if (target === undefined) {
        this.stats.unroutable++;
        return;
      }
      this.stats.delivered++;
      target.deliver(copy, from);
    };
    if (delay <= 0) {
      setImmediate(deliver);
      return;
    }
    const timer = setTimeout(() => {
      this.#pending.delete(timer);
      deliver();
    }, delay);
    this.#pending.add(timer);
  }

  /** Cancels datagrams still in flight. */
  close(): void {
    for (const t of this.#pending) clearTimeout(t);
    this.#pending.clear();
  }
}

export class MemoryTransport implements Transport {
  readonly address: SocketAddress;
  readonly #network: MemoryNetwork;
  #running = false;
  #handler: PacketHandler = () => {};
  #errorHandler: (err: Error) => void = () => {};

  constructor(network: MemoryNetwork, address: SocketAddress) {
    this.#network = network;
    this.address = address;
  }

  get addresses(): readonly SocketAddress[] {
    return this.#running ? [this.address] : [];
  }

  onPacket(handler: PacketHandler): void {
    this.#handler = handler;
  }

  onError(handler: (err: Error) => void): void {
    this.#errorHandler = handler;
  }

  async start(): Promise<void> {
    this.#network.attach(this);
    this.#running = true;
  }

  send(data: Uint8Array, to: SocketAddress): void {
    if (this.#running) this.#network.route(data, this.address, to);
  }

  /** @internal */
  deliver(data: Uint8Array, from: SocketAddress): void {
    if (!this.#running) return;
    try {
      this.#handler(data, from);
    } catch (err) {
      this.#errorHandler(err as Error);
    }
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#network.detach(this);
  }
}
