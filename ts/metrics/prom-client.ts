/**
 * An adapter from prom-client (v15) to `MetricsRegistry`, so that an application reports the node's
 * metrics into its own prom-client registry. prom-client is not a dependency: the application passes
 * its own module in, which only has to match the structural `PromClientLike` below.
 *
 * ```ts
 * import client from 'prom-client';
 * const register = new client.Registry();
 * registerNodeMetrics(fromPromClient(client, register), source);
 * ```
 */
import type { Counter, Gauge, Histogram, HistogramOptions, Labels, MetricOptions, MetricsRegistry } from './types.js';

/** What prom-client's metric constructors are given here. */
export interface PromClientConfig {
  name: string;
  help: string;
  labelNames: string[];
  /** prom-client's `Registry` instances; left out to use prom-client's global registry. */
  registers?: never[];
  collect?: () => void;
  buckets?: number[];
}

/** The part of prom-client's module that the adapter uses (its classes satisfy it as they are). */
export interface PromClientLike {
  Counter: new (config: PromClientConfig) => { inc(labels: Labels, value?: number): void };
  Gauge: new (config: PromClientConfig) => { set(labels: Labels, value: number): void };
  Histogram: new (config: PromClientConfig) => { observe(labels: Labels, value: number): void };
}

/**
 * A `MetricsRegistry` that declares each metric in prom-client, in `register` (a prom-client
 * `Registry`) or, without it, in prom-client's global registry. Collect hooks become prom-client's
 * `collect` option, which it calls each time it reads that metric.
 */
export function fromPromClient(client: PromClientLike, register?: unknown): MetricsRegistry {
  const config = (o: MetricOptions): PromClientConfig => {
    const c: PromClientConfig = { name: o.name, help: o.help, labelNames: [...(o.labelNames ?? [])] };
    if (register !== undefined) c.registers = [register as never];
    const collect = o.collect;
    if (collect !== undefined) c.collect = () => collect();
    return c;
  };
  return {
    counter(o: MetricOptions): Counter {
      const m = new client.Counter(config(o));
      return { inc: (labels, value = 1) => m.inc(labels, value) };
    },
    gauge(o: MetricOptions): Gauge {
      const m = new client.Gauge(config(o));
      return { set: (labels, value) => m.set(labels, value) };
    },
    histogram(o: HistogramOptions): Histogram {
      const m = new client.Histogram({ ...config(o), buckets: [...o.buckets] });
      return { observe: (labels, value) => m.observe(labels, value) };
    },
  };
}
