/**
 * A strict parser of the Prometheus text exposition format 0.0.4, for specs: it throws on anything
 * the format does not allow, or that a well-formed registry would not write: a line that is neither
 * HELP, TYPE, a comment nor a sample; an invalid name or escape; a sample whose family has no TYPE
 * before it; a family split in two or declared twice; a series written twice; a negative counter; a
 * histogram whose buckets are not cumulative, do not end at +Inf, or whose _count is not the +Inf bucket.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: MetricType;
  help: string | undefined;
  samples: Sample[];
}

export interface Exposition {
  families: Map<string, Family>;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const FLOAT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const TYPES = new Set<string>(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function fail(line: number, why: string, text: string): never {
  throw new Error(`line ${line}: ${why}: ${JSON.stringify(text)}`);
}

export function parseValue(text: string): number {
  if (text === '+Inf' || text === 'Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  if (text === 'NaN') return Number.NaN;
  if (!FLOAT.test(text)) throw new Error(`not a number: ${JSON.stringify(text)}`);
  return Number(text);
}

/** Reads `{a="x",b="y"}` from `text` at `i` (the `{`); returns the labels and the index after `}`. */
function parseLabels(text: string, i: number, line: number): [Record<string, string>, number] {
  const labels: Record<string, string> = {};
  i++;
  while (true) {
    if (text[i] === '}') return [labels, i + 1];
    const eq = text.indexOf('=', i);
    if (eq < 0) fail(line, 'label without =', text);
    const name = text.slice(i, eq);
    if (!LABEL_NAME.test(name)) fail(line, `invalid label name ${name}`, text);
    if (Object.hasOwn(labels, name)) fail(line, `label ${name} twice`, text);
    if (text[eq + 1] !== '"') fail(line, 'label value not quoted', text);
    let value = '';
    let j = eq + 2;
    for (; ; j++) {
      const c = text[j];
      if (c === undefined) fail(line, 'unterminated label value', text);
      if (c === '"') break;
      if (c === '\n') fail(line, 'raw line feed in label value', text);
      if (c === '\\') {
        const e = text[++j];
        if (e === '\\') value += '\\';
        else if (e === '"') value += '"';
        else if (e === 'n') value += '\n';
        else fail(line, 'invalid escape in label value', text);
      } else value += c;
    }
    labels[name] = value;
    i = j + 1;
    if (text[i] === ',') i++;
    else if (text[i] !== '}') fail(line, 'expected , or } after a label', text);
  }
}

function unescapeHelp(text: string, line: number): string {
  return text.replace(/\\(.?)/g, (_, e: string) => {
    if (e === '\\') return '\\';
    if (e === 'n') return '\n';
    return fail(line, 'invalid escape in help', text);
  });
}

/** The family a sample name belongs to, given the families declared so far. */
function familyOf(name: string, families: Map<string, Family>): Family | undefined {
  const own = families.get(name);
  if (own !== undefined) return own;
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  if (m === null) return undefined;
  const base = families.get(m[1] as string);
  if (base === undefined) return undefined;
  if (base.type === 'histogram') return base;
  if (base.type === 'summary' && m[2] !== 'bucket') return base;
  return undefined;
}

const seriesKey = (name: string, labels: Record<string, string>): string =>
  `${name}{${Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(',')}}`;

function checkFamily(f: Family): void {
  if (f.type === 'counter' || f.type === 'gauge') {
    for (const s of f.samples) {
      if (s.name !== f.name) throw new Error(`${f.name}: sample ${s.name} in a ${f.type}`);
      if (f.type === 'counter' && !(s.value >= 0)) throw new Error(`${f.name}: counter value ${s.value}`);
    }
  }
  if (f.type !== 'histogram') return;
  const groups = new Map<string, { buckets: [number, number][]; sum?: number; count?: number }>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = seriesKey('', rest);
    let g = groups.get(key);
    if (g === undefined) {
      g = { buckets: [] };
      groups.set(key, g);
    }
    if (s.name === `${f.name}_bucket`) {
      if (le === undefined) throw new Error(`${f.name}: bucket without le`);
      g.buckets.push([parseValue(le), s.value]);
    } else if (le !== undefined) throw new Error(`${f.name}: le on ${s.name}`);
    else if (s.name === `${f.name}_sum`) g.sum = s.value;
    else if (s.name === `${f.name}_count`) g.count = s.value;
    else throw new Error(`${f.name}: sample ${s.name} in a histogram`);
  }
  for (const [key, g] of groups) {
    const where = `${f.name}${key}`;
    if (g.buckets.length === 0) throw new Error(`${where}: no buckets`);
    for (let i = 1; i < g.buckets.length; i++) {
      const [le, v] = g.buckets[i] as [number, number];
      const [prevLe, prevV] = g.buckets[i - 1] as [number, number];
      if (!(le > prevLe)) throw new Error(`${where}: bucket bounds not increasing`);
      if (v < prevV) throw new Error(`${where}: buckets not cumulative`);
    }
    const [lastLe, lastV] = g.buckets[g.buckets.length - 1] as [number, number];
    if (lastLe !== Number.POSITIVE_INFINITY) throw new Error(`${where}: no +Inf bucket`);
    if (g.sum === undefined) throw new Error(`${where}: no _sum`);
    if (g.count === undefined) throw new Error(`${where}: no _count`);
    if (g.count !== lastV) throw new Error(`${where}: _count ${g.count} is not the +Inf bucket ${lastV}`);
  }
}

/** Parses an exposition; throws with the line number on anything invalid. */
export function parsePrometheus(text: string): Exposition {
  const families = new Map<string, Family>();
  const samples: Sample[] = [];
  const series = new Set<string>();
  if (text !== '' && !text.endsWith('\n')) throw new Error('the text does not end with a line feed');
  const lines = text === '' ? [] : text.slice(0, -1).split('\n');
  let current: Family | undefined;
  const closed = new Set<string>();
  const typed = new Set<string>();
  const enter = (f: Family, n: number, line: string) => {
    if (current === f) return;
    if (closed.has(f.name)) fail(n, `family ${f.name} split in two`, line);
    if (current !== undefined) closed.add(current.name);
    current = f;
  };
  lines.forEach((line, index) => {
    const n = index + 1;
    if (line === '') return;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
      if (m === null) return; // a comment
      const [, what, name = '', rest = ''] = m;
      if (!METRIC_NAME.test(name)) fail(n, `invalid metric name ${name}`, line);
      let f = families.get(name);
      if (what === 'TYPE') {
        if (!TYPES.has(rest)) fail(n, `unknown type ${rest}`, line);
        if (typed.has(name)) fail(n, `TYPE of ${name} twice`, line);
        if (f !== undefined && f.samples.length > 0) fail(n, `TYPE of ${name} after its samples`, line);
        if (f === undefined) {
          f = { name, type: rest as MetricType, help: undefined, samples: [] };
          families.set(name, f);
        } else f.type = rest as MetricType;
        typed.add(name);
      } else {
        if (f?.help !== undefined) fail(n, `HELP of ${name} twice`, line);
        if (f === undefined) {
          f = { name, type: 'untyped', help: undefined, samples: [] };
          families.set(name, f);
        }
        f.help = unescapeHelp(rest, n);
      }
      enter(f, n, line);
      return;
    }
    const nameEnd = line.search(/[{ ]/);
    if (nameEnd <= 0) fail(n, 'not a sample', line);
    const name = line.slice(0, nameEnd);
    if (!METRIC_NAME.test(name)) fail(n, `invalid metric name ${name}`, line);
    let labels: Record<string, string> = {};
    let i = nameEnd;
    if (line[i] === '{') [labels, i] = parseLabels(line, i, n);
    if (line[i] !== ' ') fail(n, 'expected a space before the value', line);
    const parts = line.slice(i + 1).split(' ');
    if (parts.length > 2 || parts[0] === '') fail(n, 'expected a value and an optional timestamp', line);
    if (parts.length === 2 && !/^-?\d+$/.test(parts[1] as string)) fail(n, 'invalid timestamp', line);
    let value: number;
    try {
      value = parseValue(parts[0] as string);
    } catch (err) {
      fail(n, (err as Error).message, line);
    }
    const f = familyOf(name, families);
    if (f === undefined || !typed.has(f.name)) fail(n, `sample ${name} before the TYPE of its family`, line);
    enter(f, n, line);
    const key = seriesKey(name, labels);
    if (series.has(key)) fail(n, `series ${key} twice`, line);
    series.add(key);
    const sample = { name, labels, value };
    f.samples.push(sample);
    samples.push(sample);
  });
  for (const f of families.values()) checkFamily(f);
  return { families, samples };
}
