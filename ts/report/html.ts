/**
 * The report page: one self-contained HTML document built from `ReportData` (inline CSS, inline SVG
 * charts from svg.ts, one small inline script that sorts and filters the node table). It names no
 * external resource, and its Content-Security-Policy forbids loading any (`default-src 'none'`) and
 * runs only the page's own script and style, by hash: even a string that escaped escaping could
 * neither run nor call out. Every database string is escaped with `esc`.
 */
import { createHash } from 'node:crypto';
import type { Count, NodeEntry, ReportData } from './data.js';
import { barChart as bars, binCounts, type Datum, esc, histogram, lineChart } from './svg.js';

const STYLE = `
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1440px; padding: 16px 24px; color: #222; background: #fafafa; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; } h3 { font-size: 14px; margin: 0; }
.muted { color: #666; } code { font-size: 12px; }
dl.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 8px; margin: 12px 0; }
dl.figures div { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 6px 10px; }
dl.figures dt { font-size: 11px; color: #666; text-transform: uppercase; } dl.figures dd { margin: 0; font-size: 16px; word-break: break-all; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(600px, 1fr)); gap: 12px; }
figure.card { background: #fff; border: 1px solid #ddd; border-radius: 6px; margin: 0; padding: 10px; overflow-x: auto; }
figure.card p { margin: 2px 0 6px; font-size: 12px; color: #666; }
svg.chart { max-width: 100%; height: auto; }
svg.chart .point:hover { opacity: 0.75; }
.note { background: #fff6d6; border: 1px solid #e6cf7a; border-radius: 6px; padding: 6px 10px; }
.tools { display: flex; gap: 12px; align-items: center; margin: 8px 0; }
#filter { font: inherit; padding: 4px 8px; width: 320px; }
table { border-collapse: collapse; background: #fff; font-size: 12px; }
th, td { border: 1px solid #e2e2e2; padding: 2px 6px; text-align: left; white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
th button { font: inherit; font-weight: 600; border: 0; background: none; padding: 2px 0; cursor: pointer; }
th[aria-sort=ascending] button::after { content: " \\25B2"; } th[aria-sort=descending] button::after { content: " \\25BC"; }
thead th { position: sticky; top: 0; background: #f0f3f7; }
.wrap { max-height: 70vh; overflow: auto; border: 1px solid #ddd; }
tr.no td { color: #888; }
`;

/**
 * The node table: sorted by a clicked header (again: the other way), filtered by the words typed
 * (every word must occur in the row), shown a page at a time (the table's data-page rows; the rest
 * carry `hidden`, so a 20,000-row table costs the layout of one page).
 */
const SCRIPT = `
(() => {
  const table = document.getElementById('nodes');
  if (!table) return;
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  const heads = Array.from(table.tHead.rows[0].cells);
  const size = Number(table.dataset.page) || 500;
  const text = rows.map((r) => Array.from(r.cells, (c) => (c.dataset.v || '') + ' ' + c.textContent).join(' ').toLowerCase());
  const index = new Map(rows.map((r, j) => [r, j]));
  const box = document.getElementById('filter');
  const shown = document.getElementById('shown');
  const range = document.getElementById('range');
  const prev = document.getElementById('prev');
  const next = document.getElementById('next');
  let order = rows;
  let matches = rows;
  let page = 0;
  let visible = rows.filter((r) => !r.hidden);
  const show = () => {
    const pages = Math.max(1, Math.ceil(matches.length / size));
    page = Math.min(Math.max(page, 0), pages - 1);
    const now = matches.slice(page * size, (page + 1) * size);
    for (const r of visible) r.hidden = true;
    for (const r of now) r.hidden = false;
    visible = now;
    shown.textContent = String(matches.length);
    range.textContent = matches.length === 0 ? 'none' : (page * size + 1) + '-' + (page * size + now.length);
    prev.disabled = page === 0;
    next.disabled = page >= pages - 1;
  };
  const filter = () => {
    const words = box.value.toLowerCase().split(/\\s+/).filter(Boolean);
    matches = words.length === 0 ? order : order.filter((r) => words.every((w) => text[index.get(r)].includes(w)));
  };
  let col = -1;
  let dir = 1;
  heads.forEach((th, i) => {
    th.querySelector('button').addEventListener('click', () => {
      const num = th.dataset.type === 'num';
      dir = col === i ? -dir : 1;
      col = i;
      const key = (r) => {
        const c = r.cells[i];
        const v = c.dataset.v !== undefined ? c.dataset.v : c.textContent;
        return num ? (v === '' ? -Infinity : Number(v)) : v;
      };
      const keyed = rows.map((r, j) => [key(r), j, r]);
      keyed.sort((a, b) => (a[0] < b[0] ? -dir : a[0] > b[0] ? dir : a[1] - b[1]));
      order = keyed.map((k) => k[2]);
      body.append(...order);
      for (const h of heads) h.setAttribute('aria-sort', 'none');
      th.setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending');
      filter();
      page = 0;
      show();
    });
  });
  box.addEventListener('input', () => {
    filter();
    page = 0;
    show();
  });
  prev.addEventListener('click', () => {
    page--;
    show();
  });
  next.addEventListener('click', () => {
    page++;
    show();
  });
  show();
})();
`;

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
const CSP = [
  "default-src 'none'",
  `style-src ${sha256(STYLE)}`,
  `script-src ${sha256(SCRIPT)}`,
  "img-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/** "1 h 02 min", "3 min 04 s", "12.3 s". */
export function duration(ms: number | null): string {
  if (ms === null) return '?';
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const pad = (n: number) => String(n).padStart(2, '0');
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${pad(Math.floor(s % 60))} s`;
  return `${Math.floor(m / 60)} h ${pad(m % 60)} min`;
}

const pct = (part: number, whole: number) => (whole > 0 ? ` (${((100 * part) / whole).toFixed(1)}%)` : '');
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function figure(title: string, note: string, svg: string): string {
  return `<figure class="card"><figcaption><h3>${esc(title)}</h3><p>${esc(note)}</p></figcaption>${svg}</figure>`;
}

function categoryChart(id: string, title: string, note: string, counts: Count[]): string {
  const data: Datum[] = counts.map((c) => ({
    label: c.label,
    value: c.value,
    inner: c.answered,
    title: `${c.label}: ${plural(c.value, 'node')}, ${c.answered} answered`,
  }));
  const desc = `${note}. ${data.map((d) => d.title).join('; ')}`;
  return figure(title, `${note}; darker: answered`, bars(data, { id, title, desc }));
}

function distributionChart(id: string, title: string, unit: string, counts: Count[]): string {
  const data: Datum[] = counts.map((c) => ({
    label: c.label,
    value: c.value,
    title: `${c.label === 'none' ? `no ${unit} entry` : `${unit} ${c.label}`}: ${plural(c.value, 'node')}, ${c.answered} answered`,
  }));
  const desc = data.map((d) => d.title).join('; ');
  return figure(title, `nodes by ${unit}`, histogram(data, { id, title, desc, xLabel: unit }));
}

function header(d: ReportData): string {
  const c = d.crawl;
  const source = `<p class="muted">${esc(d.dialect)} database <code>${esc(d.location)}</code>, ${plural(d.crawlCount, 'crawl')}; report made ${esc(d.generated)}</p>`;
  if (c === undefined)
    return `<header><h1>discv5 crawl report</h1>${source}<p class="note" id="empty-state">No crawls recorded in this database yet: run <code>discv5 crawl</code> to record one.</p></header>`;
  const items: [string, string][] = [
    ['crawl', `#${c.id}`],
    ['state', c.state],
    ['found', String(c.found)],
    ['answered', `${c.answered}${pct(c.answered, c.found)}`],
    ['requests', String(c.requests)],
    ['duration', `${duration(c.durationMs)}${c.state === 'running' ? ' so far' : ''}`],
    ['started', c.started],
    ['finished', c.finished ?? '-'],
    ['vantage', c.vantage],
    ['software', c.software],
  ];
  const dl = items.map(([k, v]) => `<div><dt>${esc(k)}</dt><dd data-figure="${esc(k)}">${esc(v)}</dd></div>`).join('');
  return `<header><h1>discv5 crawl report: crawl #${c.id}</h1>${source}<dl class="figures">${dl}</dl></header>`;
}

function overTime(d: ReportData): string {
  const labels = d.crawls.map((c) => `#${c.id}`);
  const when = (c: (typeof d.crawls)[number]) => `crawl #${c.id} (${c.vantage}, ${c.state}, started ${c.started})`;
  const series = [
    {
      name: 'found',
      values: d.crawls.map((c) => c.found),
      titles: d.crawls.map((c) => `${when(c)}: ${c.found} found`),
    },
    {
      name: 'answered',
      values: d.crawls.map((c) => c.answered),
      titles: d.crawls.map((c) => `${when(c)}: ${c.answered} answered`),
    },
  ];
  const cut = d.crawlCount > d.crawls.length ? `; the newest ${d.crawls.length} of ${d.crawlCount}` : '';
  const title = 'Nodes found and answered, per crawl';
  const lines = lineChart(labels, series, { id: 'chart-crawls', title, desc: `${title}${cut}` });
  const changes: Datum[] = d.changes.map((c) => ({
    label: `#${c.id}`,
    value: c.changed,
    title: `crawl #${c.id}: ${c.changed} of ${c.compared} nodes also visited in crawl #${c.previous} had another record seq`,
  }));
  const changeTitle = 'Record changes between crawls';
  const changeChart = histogram(changes, {
    id: 'chart-changes',
    title: changeTitle,
    desc: `${changeTitle}: nodes whose record seq differed from their visit in the previous done crawl of the same vantage`,
    xLabel: 'crawl',
  });
  return `<h2>Over time</h2><div class="charts">${figure(title, `by crawl id, oldest first${cut}`, lines)}${figure(
    changeTitle,
    'nodes visited in a crawl and in the previous done crawl of its vantage whose record seq differs',
    changeChart,
  )}</div>`;
}

function breakdowns(d: ReportData): string {
  const rtt: Datum[] = binCounts(d.rtt.map((r) => ({ value: r.ms, count: r.count }))).map((b) => ({
    label: String(b.from),
    value: b.count,
    title: `${b.from}-${b.to - 1} ms: ${plural(b.count, 'node')}`,
  }));
  const rttTitle = 'Round trips';
  return `<h2>Crawl #${d.crawl?.id}: who was there</h2><p class="muted">Nodes visited in the crawl, described by their newest record in the database.</p><div class="charts">${[
    ...discv4Charts(d),
    categoryChart('chart-networks', 'Nodes per network', 'the network their fork digest names', d.networks),
    categoryChart('chart-forks', 'Nodes per fork digest', 'the eth2 entry; none: no eth2 entry', d.forkDigests),
    categoryChart('chart-clients', 'Nodes per client', 'the client entry (EIP-7636); unknown: none', d.clients),
    categoryChart('chart-stacks', 'IPv4, IPv6 and dual stack', 'the addresses in their records', d.stacks),
    distributionChart('chart-attnets', 'Attestation subnets', 'attnets', d.attnets),
    distributionChart('chart-cgc', 'Custody group count', 'cgc', d.cgc),
    figure(
      rttTitle,
      'round trip of the first answer, nodes that answered',
      histogram(rtt, { id: 'chart-rtt', title: rttTitle, desc: rtt.map((b) => b.title).join('; '), xLabel: 'ms' }),
    ),
  ].join('')}</div>`;
}

/** With discv4 visits: nodes per protocol, and discv4 nodes per execution network (their eth fork id). */
function discv4Charts(d: ReportData): string[] {
  if (!d.protocols.some((p) => p.label === 'v4')) return [];
  const names: Record<string, string> = { v5: 'discv5', v4: 'discv4' };
  const protocols = d.protocols.map((p) => ({ ...p, label: names[p.label] ?? p.label }));
  return [
    categoryChart(
      'chart-protocols',
      'Nodes per protocol',
      'the nodes each protocol visited (a node can be in both)',
      protocols,
    ),
    categoryChart(
      'chart-eth-networks',
      'discv4 nodes per execution network',
      'the network and fork their eth entry (EIP-2124 fork id) names',
      d.ethNetworks,
    ),
  ];
}

const COLUMNS: [string, 'text' | 'num'][] = [
  ['node id', 'text'],
  ['protocol', 'text'],
  ['ip', 'text'],
  ['ports', 'num'],
  ['network', 'text'],
  ['fork digest', 'text'],
  ['client', 'text'],
  ['attnets', 'num'],
  ['cgc', 'num'],
  ['answered', 'text'],
  ['rtt ms', 'num'],
  ['seq', 'num'],
  ['first seen', 'text'],
  ['last seen', 'text'],
];

function ports(n: NodeEntry): string {
  const list: [string, number | null][] = [
    ['udp', n.udp],
    ['tcp', n.tcp],
    ['quic', n.quic],
    ['udp6', n.udp6],
    ['tcp6', n.tcp6],
    ['quic6', n.quic6],
  ];
  return list.flatMap(([k, p]) => (p === null ? [] : [`${k} ${p}`])).join(', ');
}

function row(n: NodeEntry, hidden: boolean): string {
  const num = (v: number | string | null) => `<td class="num" data-v="${esc(v ?? '')}">${esc(v ?? '')}</td>`;
  const text = (v: string | null, fallback = '') => `<td>${esc(v ?? fallback)}</td>`;
  return (
    `<tr class="${n.answered ? 'yes' : 'no'}"${hidden ? ' hidden' : ''}>` +
    `<td data-v="${esc(n.nodeId)}" title="${esc(n.nodeId)}"><code>${esc(n.nodeId.slice(0, 16))}…</code></td>` +
    text(n.protocol) +
    text([n.ip, n.ip6].filter((a) => a !== null).join(' ')) +
    `<td class="num" data-v="${n.udp ?? n.udp6 ?? ''}">${esc(ports(n))}</td>` +
    text(n.protocol === 'v4' ? n.ethNetwork : n.network, 'unknown') +
    text(n.forkDigest) +
    text(n.client, 'unknown') +
    num(n.attnets) +
    num(n.cgc) +
    text(n.answered ? 'yes' : 'no') +
    num(n.rttMs) +
    num(/^\d+$/.test(n.seq) ? n.seq : null) +
    text(n.firstSeen) +
    text(n.lastSeen) +
    '</tr>'
  );
}

/** Rows of the node table shown at once (the others are there, hidden, for sorting and filtering). */
export const PAGE_ROWS = 500;

function nodeTable(d: ReportData, pageRows: number): string {
  const cut =
    d.nodesTotal > d.nodes.length
      ? `<p class="note" id="table-cut">${d.protocols.length > 1 ? `The crawl made ${d.nodesTotal} visits (a node once per protocol that visited it)` : `The crawl visited ${d.nodesTotal} nodes`}; this table holds the first ${d.nodes.length} (those that answered first, then by node id).</p>`
      : '';
  const head = COLUMNS.map(
    ([name, type]) => `<th data-type="${type}" aria-sort="none"><button type="button">${esc(name)}</button></th>`,
  ).join('');
  const page = Math.max(1, Math.floor(pageRows));
  const rows = d.nodes.map((n, i) => row(n, i >= page));
  const first = Math.min(page, d.nodes.length);
  return `<h2>Nodes of crawl #${d.crawl?.id}</h2>${cut}
<div class="tools"><label>Filter <input id="filter" type="search" placeholder="words to match, e.g. lighthouse mainnet" autocomplete="off"></label>
<span class="muted"><span id="shown">${d.nodes.length}</span> of ${d.nodes.length} rows match; showing <span id="range">${first === 0 ? 'none' : `1-${first}`}</span>; click a header to sort</span>
<button type="button" id="prev" disabled>previous</button><button type="button" id="next"${d.nodes.length > page ? '' : ' disabled'}>next</button></div>
<div class="wrap"><table id="nodes" data-page="${page}"><thead><tr>${head}</tr></thead><tbody>
${rows.join('\n')}
</tbody></table></div>`;
}

/** The whole page. */
export function renderReport(d: ReportData, options: { pageRows?: number } = {}): string {
  const body =
    d.crawl === undefined
      ? header(d)
      : `${header(d)}${overTime(d)}${breakdowns(d)}${nodeTable(d, options.pageRows ?? PAGE_ROWS)}<p class="muted">Made by <code>discv5 report</code>.</p>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${esc(CSP)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(d.crawl === undefined ? 'discv5 crawl report' : `discv5 crawl report: crawl #${d.crawl.id}`)}</title>
<style>${STYLE}</style></head>
<body>
${body}
<script>${SCRIPT}</script>
</body></html>
`;
}
