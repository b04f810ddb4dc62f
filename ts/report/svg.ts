/**
 * Small static SVG charts for the HTML report: horizontal bars (categories), columns (a histogram
 * or a discrete distribution) and lines (values over crawls). Each returns one `<svg>` string with
 * a `<title>` and `<desc>` for the whole chart and, for each data point, one element of class
 * `point` carrying `data-value` (and `data-label`) with a `<title>` of its own (a tooltip, and what
 * a screen reader reads). Every string that reaches the markup goes through `esc`: labels come from
 * node records, which are hostile input. No script, no external reference: the page stays
 * self-contained.
 */

/** Escapes text for HTML and SVG text content and double- or single-quoted attribute values. */
export function esc(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** One data point: what it is called on the axis, its value, and its full tooltip text. */
export interface Datum {
  label: string;
  value: number;
  title: string;
  /** A second, smaller value drawn inside the bar (e.g. the nodes of a category that answered). */
  inner?: number;
}

export interface ChartOptions {
  /** A unique id in the page (for aria-labelledby). */
  id: string;
  title: string;
  desc: string;
}

export interface Series {
  name: string;
  values: number[];
  /** Tooltip per value. */
  titles: string[];
}

export const COLORS = ['#2f6db5', '#d9822b', '#3a9d5d', '#9b59b6'];
const INNER = '#1d4a80';
const FONT = 'font-family="system-ui, sans-serif" font-size="11"';
const W = 680;

/** Labels longer than this are cut on the axis (the tooltip keeps the whole text). */
const MAX_LABEL = 28;
const short = (s: string, max = MAX_LABEL) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);
const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));
const r1 = (n: number) => Math.round(n * 10) / 10;

/** Axis ticks from 0: 1, 2 or 5 times a power of ten, about `count` of them, covering `max`. */
export function ticks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p) || 1;
  const out: number[] = [];
  for (let t = 0; t < max + step / 2 && out.length < 50; t += step) out.push(r1(t));
  if ((out.at(-1) as number) < max) out.push(r1((out.at(-1) as number) + step));
  return out;
}

function open(o: ChartOptions, height: number): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${W} ${height}" width="${W}" height="${height}" ` +
    `role="img" aria-labelledby="${esc(o.id)}-t ${esc(o.id)}-d" id="${esc(o.id)}" ${FONT}>` +
    `<title id="${esc(o.id)}-t">${esc(o.title)}</title><desc id="${esc(o.id)}-d">${esc(o.desc)}</desc>`
  );
}

function empty(o: ChartOptions): string {
  return `${open(o, 60)}<text class="empty" x="${W / 2}" y="34" text-anchor="middle" fill="#777">no data</text></svg>`;
}

function point(tag: string, attrs: string, d: { label: string; value: number; title: string }, extra = ''): string {
  return (
    `<${tag} class="point" data-value="${esc(d.value)}" data-label="${esc(d.label)}" ${attrs}${extra}>` +
    `<title>${esc(d.title)}</title></${tag}>`
  );
}

/** Horizontal bars, one per category, in the order given; `inner` drawn darker inside each bar. */
export function barChart(data: readonly Datum[], o: ChartOptions): string {
  if (data.length === 0) return empty(o);
  const row = 22;
  const left = 190;
  const right = 60;
  const top = 8;
  const plot = W - left - right;
  const height = top + data.length * row + 24;
  const axis = ticks(Math.max(...data.map((d) => d.value)));
  const max = axis.at(-1) as number;
  const x = (v: number) => left + (plot * Math.max(0, v)) / max;
  const parts = [open(o, height), '<g class="grid" stroke="#ddd">'];
  for (const t of axis) parts.push(`<line x1="${r1(x(t))}" x2="${r1(x(t))}" y1="${top}" y2="${height - 20}"/>`);
  parts.push('</g><g class="ticks" fill="#555" text-anchor="middle">');
  for (const t of axis) parts.push(`<text x="${r1(x(t))}" y="${height - 6}">${fmt(t)}</text>`);
  parts.push('</g>');
  data.forEach((d, i) => {
    const y = top + i * row + 3;
    const h = row - 6;
    parts.push(
      `<text class="label" x="${left - 6}" y="${y + h / 2 + 4}" text-anchor="end" fill="#222">${esc(short(d.label))}</text>`,
      point('rect', `x="${left}" y="${y}" width="${r1(x(d.value) - left)}" height="${h}" fill="${COLORS[0]}"`, d),
    );
    if (d.inner !== undefined && d.inner > 0)
      parts.push(
        `<rect class="inner" x="${left}" y="${y + 4}" width="${r1(x(d.inner) - left)}" height="${h - 8}" fill="${INNER}" pointer-events="none"/>`,
      );
    parts.push(`<text class="value" x="${r1(x(d.value) + 4)}" y="${y + h / 2 + 4}" fill="#222">${fmt(d.value)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

/** Vertical columns over `bins` in order (a histogram, or a distribution over discrete values). */
export function histogram(bins: readonly Datum[], o: ChartOptions & { xLabel: string }): string {
  if (bins.length === 0) return empty(o);
  const height = 260;
  const [left, right, top, bottom] = [48, 16, 10, 46];
  const plotW = W - left - right;
  const plotH = height - top - bottom;
  const axis = ticks(Math.max(...bins.map((b) => b.value)));
  const max = axis.at(-1) as number;
  const y = (v: number) => top + plotH - (plotH * Math.max(0, v)) / max;
  const bw = Math.min(plotW / bins.length, 90);
  const every = Math.ceil(bins.length / 14);
  const parts = [open(o, height), '<g class="grid" stroke="#ddd">'];
  for (const t of axis) parts.push(`<line x1="${left}" x2="${W - right}" y1="${r1(y(t))}" y2="${r1(y(t))}"/>`);
  parts.push('</g><g class="ticks" fill="#555" text-anchor="end">');
  for (const t of axis) parts.push(`<text x="${left - 4}" y="${r1(y(t) + 4)}">${fmt(t)}</text>`);
  parts.push('</g>');
  bins.forEach((b, i) => {
    const x = left + i * bw;
    const attrs = `x="${r1(x + 1)}" y="${r1(y(b.value))}" width="${r1(Math.max(1, bw - 2))}" height="${r1(top + plotH - y(b.value))}" fill="${COLORS[0]}"`;
    parts.push(point('rect', attrs, b));
    if (i % every === 0)
      parts.push(
        `<text class="label" x="${r1(x + bw / 2)}" y="${top + plotH + 14}" text-anchor="middle" fill="#222">${esc(short(b.label, 10))}</text>`,
      );
  });
  parts.push(
    `<text class="axis-label" x="${left + plotW / 2}" y="${height - 8}" text-anchor="middle" fill="#555">${esc(o.xLabel)}</text></svg>`,
  );
  return parts.join('');
}

/** Lines over evenly spaced x positions named by `labels`, one per series, each value a circle. */
export function lineChart(labels: readonly string[], series: readonly Series[], o: ChartOptions): string {
  if (labels.length === 0 || series.length === 0) return empty(o);
  const height = 270;
  const [left, right, top, bottom] = [52, 16, 28, 40];
  const plotW = W - left - right;
  const plotH = height - top - bottom;
  const axis = ticks(Math.max(...series.flatMap((s) => s.values)));
  const max = axis.at(-1) as number;
  const x = (i: number) => (labels.length === 1 ? left + plotW / 2 : left + (plotW * i) / (labels.length - 1));
  const y = (v: number) => top + plotH - (plotH * Math.max(0, v)) / max;
  const every = Math.ceil(labels.length / 12);
  const parts = [open(o, height), '<g class="grid" stroke="#ddd">'];
  for (const t of axis) parts.push(`<line x1="${left}" x2="${W - right}" y1="${r1(y(t))}" y2="${r1(y(t))}"/>`);
  parts.push('</g><g class="ticks" fill="#555">');
  for (const t of axis) parts.push(`<text x="${left - 4}" y="${r1(y(t) + 4)}" text-anchor="end">${fmt(t)}</text>`);
  labels.forEach((l, i) => {
    if (i % every === 0 || i === labels.length - 1)
      parts.push(`<text x="${r1(x(i))}" y="${top + plotH + 16}" text-anchor="middle">${esc(short(l, 12))}</text>`);
  });
  parts.push('</g>');
  series.forEach((s, k) => {
    const color = COLORS[k % COLORS.length] as string;
    const path = s.values.map((v, i) => `${r1(x(i))},${r1(y(v))}`).join(' ');
    parts.push(
      `<g class="series" data-series="${esc(s.name)}">`,
      `<polyline points="${path}" fill="none" stroke="${color}" stroke-width="2"/>`,
      `<rect x="${left + k * 120}" y="6" width="12" height="12" fill="${color}"/>`,
      `<text x="${left + k * 120 + 16}" y="16" fill="#222">${esc(s.name)}</text>`,
    );
    s.values.forEach((v, i) => {
      const d = { label: labels[i] ?? '', value: v, title: s.titles[i] ?? `${labels[i]}: ${v}` };
      parts.push(point('circle', `cx="${r1(x(i))}" cy="${r1(y(v))}" r="3.5" fill="${color}"`, d));
    });
    parts.push('</g>');
  });
  parts.push('</svg>');
  return parts.join('');
}

/**
 * Equal-width bins from 0 over (value, count) pairs: the width a 1, 2 or 5 times a power of ten such
 * that at most `maxBins` bins cover the largest value. Negative values fall in the first bin.
 */
export function binCounts(
  values: readonly { value: number; count: number }[],
  maxBins = 30,
): { from: number; to: number; count: number }[] {
  const finite = values.filter((v) => Number.isFinite(v.value));
  if (finite.length === 0) return [];
  const max = Math.max(0, ...finite.map((v) => v.value));
  let width = 1;
  for (let p = 1; ; p *= 10) {
    const w = [1, 2, 5].map((m) => m * p).find((c) => Math.floor(max / c) + 1 <= maxBins);
    if (w !== undefined) {
      width = w;
      break;
    }
  }
  const bins = Array.from({ length: Math.floor(max / width) + 1 }, (_, i) => ({
    from: i * width,
    to: (i + 1) * width,
    count: 0,
  }));
  for (const v of finite) {
    const bin = bins[Math.max(0, Math.floor(v.value / width))];
    if (bin) bin.count += v.count;
  }
  return bins;
}
