/** The socket layer: datagrams in and out, nothing more. */

export type IpFamily = 4 | 6;

export interface SocketAddress {
  /** Textual IP (IPv4-mapped IPv6 addresses are normalised to IPv4). */
  ip: string;
  port: number;
  family: IpFamily;
}

export type PacketHandler = (data: Uint8Array, from: SocketAddress) => void;

export interface Transport {
  /** The addresses this transport is bound to (one per family it serves). */
  readonly addresses: readonly SocketAddress[];
  /** Starts receiving; resolves once bound. */
  start(): Promise<void>;
  /** Sends one datagram. Errors (unreachable, closed) are reported to `onError`, never thrown. */
  send(data: Uint8Array, to: SocketAddress): void;
  /** The single receiver of inbound datagrams. */
  onPacket(handler: PacketHandler): void;
  onError(handler: (err: Error) => void): void;
  /** Releases every socket and timer. */
  stop(): Promise<void>;
}
