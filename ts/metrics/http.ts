/**
 * Serves a registry's text at /metrics over plain HTTP (node:http), for Prometheus to scrape.
 * GET (and HEAD) /metrics answers 200 in the text format 0.0.4; any other path 404, any other method
 * 405; a render that throws or rejects answers 500 and leaves the server running. Bind to loopback
 * unless the endpoint is meant to be reached from elsewhere: it has no authentication.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The content type of the Prometheus text exposition format. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Where `discv5 serve --metrics` listens unless told otherwise: loopback only. */
export const DEFAULT_METRICS_IP = '127.0.0.1';

/** Anything that renders the exposition text: `PrometheusRegistry`, or prom-client's `Registry` via `{ text: () => register.metrics() }`. */
export interface MetricsText {
  text(): string | Promise<string>;
}

export interface MetricsServer {
  /** `http://IP:PORT/metrics` (IPv6 in brackets). */
  readonly url: string;
  /** The bound port (useful when asked for port 0). */
  readonly port: number;
  /** Stops listening and closes every connection, idle keep-alive ones included; resolves when done. */
  close(): Promise<void>;
}

function reply(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  if (res.destroyed || res.headersSent) return;
  res.writeHead(status, {
    'content-type': status === 200 ? PROMETHEUS_CONTENT_TYPE : 'text/plain; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(body);
}

async function handle(registry: MetricsText, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?', 1)[0];
  if (path !== '/metrics') return reply(res, 404, 'not found: metrics are at /metrics\n');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return reply(res, 405, 'method not allowed\n', { allow: 'GET, HEAD' });
  }
  let body: string;
  try {
    body = await registry.text();
    if (typeof body !== 'string') throw new TypeError('the registry rendered no text');
  } catch {
    return reply(res, 500, 'metrics could not be rendered\n');
  }
  reply(res, 200, body);
}

/**
 * Listens on `at.ip`:`at.port` (port 0 picks a free one) and serves `registry.text()` at /metrics.
 * Rejects if the address cannot be bound.
 */
export function serveMetrics(registry: MetricsText, at: { ip: string; port: number }): Promise<MetricsServer> {
  if (!Number.isInteger(at.port) || at.port < 0 || at.port > 65535) {
    return Promise.reject(new RangeError(`metrics port must be 0..65535, got ${at.port}`));
  }
  const server = createServer((req, res) => {
    res.on('error', () => {});
    handle(registry, req, res).catch(() => reply(res, 500, 'internal error\n'));
  });
  return new Promise<MetricsServer>((resolve, reject) => {
    const failed = (err: Error) => reject(err);
    server.once('error', failed);
    server.listen({ host: at.ip, port: at.port }, () => {
      server.off('error', failed);
      // After listening, a server error must not end the process (nothing else listens for it).
      server.on('error', () => {});
      const port = (server.address() as AddressInfo).port;
      const host = at.ip.includes(':') ? `[${at.ip}]` : at.ip;
      let closing: Promise<void> | undefined;
      resolve({
        url: `http://${host}:${port}/metrics`,
        port,
        close: () => {
          closing ??= new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          });
          return closing;
        },
      });
    });
  });
}
