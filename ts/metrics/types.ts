/**
 * The metrics interface the library reports into: a subset of prom-client's shape (counters, gauges,
 * histograms with labels given as an object), so that an application can plug in its own registry
 * (`fromPromClient`) or use the built-in, dependency-free `PrometheusRegistry`.
 *
 * Naming rules for everything the library registers: names start with `discv5_` (`discv4_` for
 * Discovery v4 on the same node), counters end in
 * `_total`, units are in the name (`_seconds`, `_bytes`), and label values come from bounded,
 * code-defined sets (never a node id or an IP address).
 */

/** Label values by label name; every name must be one of the metric's `labelNames`. */
export type Labels = Record<string, string | number>;

/** A value that only goes up. `value` defaults to 1 and must be finite and >= 0. */
export interface Counter {
  inc(labels: Labels, value?: number): void;
}

/** A value that goes up and down. */
export interface Gauge {
  set(labels: Labels, value: number): void;
}

/** Observations counted into cumulative buckets, with their sum and count. */
export interface Histogram {
  observe(labels: Labels, value: number): void;
}

/** What every metric is declared with. */
export interface MetricOptions {
  /** `[a-zA-Z_:][a-zA-Z0-9_:]*`, unique in its registry. */
  name: string;
  help: string;
  /** `[a-zA-Z_][a-zA-Z0-9_]*`, not starting with `__`; none by default. */
  labelNames?: readonly string[];
  /** Called right before each scrape, to set values that are read rather than pushed. */
  collect?: () => void;
}

export interface HistogramOptions extends MetricOptions {
  /** Upper bounds, strictly increasing; `+Inf` is implied. */
  buckets: readonly number[];
}

/** Where metrics are declared. Declaring a name twice throws. */
export interface MetricsRegistry {
  counter(o: MetricOptions): Counter;
  gauge(o: MetricOptions): Gauge;
  histogram(o: HistogramOptions): Histogram;
}
