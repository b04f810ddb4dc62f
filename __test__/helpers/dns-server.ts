/**
 * A minimal authoritative DNS server for the specs: UDP on 127.0.0.1, an ephemeral port, TXT
 * answers from a map of fully qualified names (case-insensitive) to texts, NXDOMAIN for any other
 * name. A text longer than 255 bytes goes out as several character-strings, as DNS requires.
 * Queries are parsed defensively: anything malformed gets FORMERR (or nothing, if it has no
 * readable header), never an exception. It counts queries, and can delay or drop answers.
 */
import dgram from 'node:dgram';

const TYPE_TXT = 16;
const TYPE_ANY = 255;
const CLASS_IN = 1;
const RCODE_FORMERR = 1;
const RCODE_NXDOMAIN = 3;
const RCODE_NOTIMP = 4;
const MAX_NAME = 255;
const MAX_UDP = 65_507;

export interface DnsServerOptions {
  /** Milliseconds to wait before each answer. */
  delayMs?: number;
  /** Names (lower case) to which no answer is sent at all. */
  drop?: (name: string) => boolean;
}

interface Query {
  id: number;
  flags: number;
  /** Lower case, no trailing dot. */
  name: string;
  type: number;
  klass: number;
  /** The question section as received, echoed in the answer. */
  question: Buffer;
}

type Parsed = { ok: true; query: Query } | { ok: false; id: number; flags: number } | null;

/** The one question of a query; null if not even a header can be read (or it is a response). */
export function parseQuery(msg: Buffer): Parsed {
  if (msg.length < 12) return null;
  const id = msg.readUInt16BE(0);
  const flags = msg.readUInt16BE(2);
  if ((flags & 0x8000) !== 0) return null; // a response: never answer one
  if (msg.readUInt16BE(4) !== 1) return { ok: false, id, flags };
  const labels: string[] = [];
  let at = 12;
  let nameLength = 0;
  for (;;) {
    if (at >= msg.length) return { ok: false, id, flags };
    const len = msg[at] as number;
    at += 1;
    if (len === 0) break;
    if ((len & 0xc0) !== 0) return { ok: false, id, flags }; // compression or extended labels in a question
    nameLength += len + 1;
    if (nameLength > MAX_NAME || at + len > msg.length) return { ok: false, id, flags };
    labels.push(msg.toString('latin1', at, at + len));
    at += len;
  }
  if (at + 4 > msg.length) return { ok: false, id, flags };
  const type = msg.readUInt16BE(at);
  const klass = msg.readUInt16BE(at + 2);
  const question = msg.subarray(12, at + 4);
  return { ok: true, query: { id, flags, name: labels.join('.').toLowerCase(), type, klass, question } };
}

function header(id: number, queryFlags: number, rcode: number, qd: number, an: number): Buffer {
  const out = Buffer.alloc(12);
  const opcode = (queryFlags >> 11) & 0xf;
  // QR, the query's opcode, AA, the query's RD, the rcode.
  out.writeUInt16BE(id, 0);
  out.writeUInt16BE(0x8000 | (opcode << 11) | 0x0400 | (queryFlags & 0x0100) | rcode, 2);
  out.writeUInt16BE(qd, 4);
  out.writeUInt16BE(an, 6);
  return out;
}

/** A TXT record's RDATA: the text's bytes as character-strings of at most 255 bytes. */
export function txtRdata(text: string): Buffer {
  const bytes = Buffer.from(text, 'latin1');
  const parts: Buffer[] = [];
  for (let i = 0; i === 0 || i < bytes.length; i += 255) {
    const chunk = bytes.subarray(i, i + 255);
    parts.push(Buffer.from([chunk.length]), chunk);
  }
  return Buffer.concat(parts);
}

function answer(query: Query, texts: readonly string[] | undefined): Buffer {
  const { id, flags, question, type, klass } = query;
  if (((flags >> 11) & 0xf) !== 0) return Buffer.concat([header(id, flags, RCODE_NOTIMP, 1, 0), question]);
  if (texts === undefined) return Buffer.concat([header(id, flags, RCODE_NXDOMAIN, 1, 0), question]);
  const wanted = (type === TYPE_TXT || type === TYPE_ANY) && klass === CLASS_IN ? texts : [];
  const records = wanted.map((text) => {
    const rdata = txtRdata(text);
    const rr = Buffer.alloc(12);
    rr.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
    rr.writeUInt16BE(TYPE_TXT, 2);
    rr.writeUInt16BE(CLASS_IN, 4);
    rr.writeUInt32BE(0, 6); // TTL 0: no resolver keeps it, so every lookup reaches this server
    rr.writeUInt16BE(rdata.length, 10);
    return Buffer.concat([rr, rdata]);
  });
  return Buffer.concat([header(id, flags, 0, 1, records.length), question, ...records]);
}

export class DnsServer {
  readonly #records = new Map<string, string[]>();
  readonly #counts = new Map<string, number>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #options: DnsServerOptions;
  #socket: dgram.Socket | undefined;
  #queries = 0;
  #pending = 0;
  #maxPending = 0;
  #port = 0;

  constructor(records: Iterable<[string, string | readonly string[]]> = [], options: DnsServerOptions = {}) {
    for (const [name, text] of records) this.set(name, text);
    this.#options = options;
  }

  /** Sets (or replaces) the TXT records at `name`. */
  set(name: string, text: string | readonly string[]): void {
    this.#records.set(name.toLowerCase().replace(/\.$/, ''), typeof text === 'string' ? [text] : [...text]);
  }

  delete(name: string): void {
    this.#records.delete(name.toLowerCase().replace(/\.$/, ''));
  }

  async start(): Promise<void> {
    const socket = dgram.createSocket('udp4');
    socket.on('message', (msg, rinfo) => this.#onMessage(msg, rinfo));
    socket.on('error', () => {}); // a send error to a vanished client is not the server's concern
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => {
        socket.off('error', reject);
        resolve();
      });
    });
    this.#socket = socket;
    this.#port = socket.address().port;
  }

  async stop(): Promise<void> {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    const socket = this.#socket;
    this.#socket = undefined;
    if (socket !== undefined) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  get port(): number {
    return this.#port;
  }

  /** "127.0.0.1:PORT", as resolveTree's `server` option takes it. */
  get address(): string {
    return `127.0.0.1:${this.#port}`;
  }

  /** Datagrams received, answered or not. */
  get queries(): number {
    return this.#queries;
  }

  /** Most answers held back by `delayMs` at once: the client's lookups in flight. */
  get maxPending(): number {
    return this.#maxPending;
  }

  /** Queries received for one name (case-insensitive). */
  queryCount(name: string): number {
    return this.#counts.get(name.toLowerCase().replace(/\.$/, '')) ?? 0;
  }

  /** Every name queried, with its count. */
  get queriedNames(): ReadonlyMap<string, number> {
    return this.#counts;
  }

  #onMessage(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    this.#queries++;
    const parsed = parseQuery(msg);
    if (parsed === null) return;
    let reply: Buffer;
    if (parsed.ok) {
      const { name } = parsed.query;
      this.#counts.set(name, (this.#counts.get(name) ?? 0) + 1);
      if (this.#options.drop?.(name)) return;
      reply = answer(parsed.query, this.#records.get(name));
    } else {
      reply = header(parsed.id, parsed.flags, RCODE_FORMERR, 0, 0);
    }
    if (reply.length > MAX_UDP) return;
    const send = () => this.#socket?.send(reply, rinfo.port, rinfo.address);
    const delay = this.#options.delayMs ?? 0;
    if (delay <= 0) {
      send();
      return;
    }
    this.#pending++;
    this.#maxPending = Math.max(this.#maxPending, this.#pending);
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.#pending--;
      send();
    }, delay);
    this.#timers.add(timer);
  }
}
