/**
 * The built-in metrics registry: no dependency, renders the Prometheus text exposition format 0.0.4.
 * Values are kept per label set; every `collect` hook runs right before each render. Bounded: past
 * `maxSeriesPerMetric` label sets, a metric drops new label sets (counted in `dropped`) instead of
 * storing them. Programmer errors throw: a duplicate or invalid name, a label not declared or missing.
 */
import type { Counter, Gauge, Histogram, HistogramOptions, Labels, MetricOptions, MetricsRegistry } from './types.js';

/** Label sets kept per metric unless told otherwise. */
export const DEFAULT_MAX_SERIES_PER_METRIC = 1_000;

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

type Kind = 'counter' | 'gauge' | 'histogram';

interface Series {
  /** The rendered label pairs, `a="x",b="y"` (also the key of the series). */
  readonly labels: string;
  value: number;
  /** Histograms: observations per bucket (not cumulative), the last one being +Inf. */
  readonly counts?: number[];
  sum: number;
}

interface Family {
  readonly kind: Kind;
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly collect: (() => void) | undefined;
  /** Histograms: the finite upper bounds. */
  readonly bounds: readonly number[];
  readonly series: Map<string, Series>;
}

export interface PrometheusRegistryOptions {
  /** Label sets kept per metric; new ones past it are dropped (default 1,000). */
  maxSeriesPerMetric?: number;
}

/** Escapes a label value: backslash, double quote and line feed. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/** Escapes help text: backslash and line feed. */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** A sample value as the format writes it (`+Inf`, `-Inf`, `NaN`, or a JavaScript number). */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

function checkBuckets(name: string, buckets: readonly number[]): number[] {
  const bounds = buckets.filter((b) => b !== Number.POSITIVE_INFINITY);
  for (let i = 0; i < bounds.length; i++) {
    const b = bounds[i] as number;
    if (typeof b !== 'number' || !Number.isFinite(b)) throw new Error(`${name}: bucket ${String(b)} is not a number`);
    if (i > 0 && b <= (bounds[i - 1] as number)) throw new Error(`${name}: buckets must be strictly increasing`);
  }
  return bounds;
}

export class PrometheusRegistry implements MetricsRegistry {
  readonly #families: Family[] = [];
  /** Every sample name any family writes (a histogram writes three besides its own name). */
  readonly #taken = new Set<string>();
  readonly #maxSeries: number;
  #dropped = 0;

  constructor(options: PrometheusRegistryOptions = {}) {
    const max = options.maxSeriesPerMetric ?? DEFAULT_MAX_SERIES_PER_METRIC;
    if (!Number.isInteger(max) || max < 1) throw new Error(`maxSeriesPerMetric must be a positive integer, got ${max}`);
    this.#maxSeries = max;
  }

  /** Calls dropped because their metric already had `maxSeriesPerMetric` label sets. */
  get dropped(): number {
    return this.#dropped;
  }

  counter(o: MetricOptions): Counter {
    const f = this.#declare('counter', o, []);
    return {
      inc: (labels: Labels, value = 1) => {
        if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
          throw new TypeError(`${f.name}: a counter goes up by a finite number >= 0, got ${String(value)}`);
        }
        const s = this.#series(f, labels);
        if (s !== undefined) s.value += value;
      },
    };
  }

  gauge(o: MetricOptions): Gauge {
    const f = this.#declare('gauge', o, []);
    return {
      set: (labels: Labels, value: number) => {
        if (typeof value !== 'number')
          throw new TypeError(`${f.name}: a gauge is set to a number, got ${String(value)}`);
        const s = this.#series(f, labels);
        if (s !== undefined) s.value = value;
      },
    };
  }

  histogram(o: HistogramOptions): Histogram {
    const f = this.#declare('histogram', o, checkBuckets(o.name, o.buckets ?? []));
    return {
      observe: (labels: Labels, value: number) => {
        if (typeof value !== 'number' || !Number.isFinite(value)) {
          throw new TypeError(`${f.name}: an observation is a finite number, got ${String(value)}`);
        }
        const s = this.#series(f, labels);
        if (s === undefined || s.counts === undefined) return;
        let i = 0;
        while (i < f.bounds.length && value > (f.bounds[i] as number)) i++;
        s.counts[i] = (s.counts[i] as number) + 1;
        s.value += 1;
        s.sum += value;
      },
    };
  }

  /** Runs every collect hook, then renders all metrics in the text format 0.0.4 (ends with a line feed). */
  text(): string {
    for (const f of this.#families) f.collect?.();
    const lines: string[] = [];
    for (const f of this.#families) {
      lines.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.kind}`);
      for (const s of f.series.values()) {
        if (f.kind !== 'histogram') {
          lines.push(`${f.name}${s.labels === '' ? '' : `{${s.labels}}`} ${formatValue(s.value)}`);
          continue;
        }
        const sep = s.labels === '' ? '' : ',';
        let cumulative = 0;
        const counts = s.counts ?? [];
        for (let i = 0; i < counts.length; i++) {
          cumulative += counts[i] as number;
          const le = i < f.bounds.length ? formatValue(f.bounds[i] as number) : '+Inf';
          lines.push(`${f.name}_bucket{${s.labels}${sep}le="${le}"} ${cumulative}`);
        }
        const braces = s.labels === '' ? '' : `{${s.labels}}`;
        lines.push(`${f.name}_sum${braces} ${formatValue(s.sum)}`, `${f.name}_count${braces} ${s.value}`);
      }
    }
    return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
  }

  #declare(kind: Kind, o: MetricOptions, bounds: number[]): Family {
    const { name, help } = o;
    if (typeof name !== 'string' || !METRIC_NAME.test(name)) throw new Error(`invalid metric name: ${String(name)}`);
    if (typeof help !== 'string' || help === '') throw new Error(`${name}: help text is required`);
    const labelNames = [...(o.labelNames ?? [])];
    const seen = new Set<string>();
    for (const l of labelNames) {
      if (typeof l !== 'string' || !LABEL_NAME.test(l) || l.startsWith('__')) {
        throw new Error(`${name}: invalid label name: ${String(l)}`);
      }
      if (kind === 'histogram' && l === 'le') throw new Error(`${name}: "le" is reserved in histograms`);
      if (seen.has(l)) throw new Error(`${name}: label ${l} declared twice`);
      seen.add(l);
    }
    if (o.collect !== undefined && typeof o.collect !== 'function')
      throw new Error(`${name}: collect must be a function`);
    const names = kind === 'histogram' ? [name, `${name}_bucket`, `${name}_sum`, `${name}_count`] : [name];
    for (const n of names) if (this.#taken.has(n)) throw new Error(`a metric named ${n} is already registered`);
    for (const n of names) this.#taken.add(n);
    const f: Family = { kind, name, help, labelNames, collect: o.collect, bounds, series: new Map() };
    this.#families.push(f);
    // Without labels the one series exists from the start, at zero (as prom-client does).
    if (labelNames.length === 0) this.#series(f, {});
    return f;
  }

  /** The series for a label set, created if there is room; undefined if the cap dropped it. */
  #series(f: Family, labels: Labels): Series | undefined {
    if (labels === null || typeof labels !== 'object') throw new TypeError(`${f.name}: labels must be an object`);
    const pairs: string[] = [];
    for (const n of f.labelNames) {
      const v = labels[n];
      if (v === undefined) throw new Error(`${f.name}: label ${n} missing`);
      if (typeof v !== 'string' && typeof v !== 'number')
        throw new TypeError(`${f.name}: label ${n} must be a string or number`);
      pairs.push(`${n}="${escapeLabelValue(String(v))}"`);
    }
    const given = Object.keys(labels);
    if (given.length !== f.labelNames.length) {
      const unknown = given.find((k) => !f.labelNames.includes(k));
      throw new Error(`${f.name}: unknown label ${String(unknown)}`);
    }
    const key = pairs.join(',');
    let s = f.series.get(key);
    if (s === undefined) {
      if (f.series.size >= this.#maxSeries) {
        this.#dropped++;
        return undefined;
      }
      s = { labels: key, value: 0, sum: 0 };
      if (f.kind === 'histogram') s = { ...s, counts: new Array<number>(f.bounds.length + 1).fill(0) };
      f.series.set(key, s);
    }
    return s;
  }
}
