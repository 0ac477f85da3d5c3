// A self-contained HTML report of a run: one inline-SVG line chart per metric
// per stage (one line per run when the rows carry a `run` name, as the default
// job's seeds and ablations do), an optional results table and the config. No scripts, no CDN, no
// server: the file opens from disk anywhere (also on a machine without network,
// which is where training runs often live). Hover titles give each point's values (4 significant digits).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomically } from '../io/safetensors.js';
import { METRIC_LABELS, type MetricsRow } from './metrics.js';
import { formatNumber } from './progress.js';

export interface ResultsTable {
  caption?: string;
  columns: string[];
  rows: (string | number)[][];
}

export interface ReportOptions {
  title: string;
  /** Shown as preformatted text, e.g. describeConfig(cfg). */
  configSummary?: string;
  results?: ResultsTable;
}

export interface Series {
  x: readonly number[];
  y: readonly number[];
  /** Shown in the legend and hover titles when a chart has several series (or options.legend). */
  name?: string;
  /** Line colour; default: the palette in series order. */
  colour?: string;
}

/** Line colours of the series of one chart, in order (Okabe-Ito, then two of Tol's): enough for
 * the 9 GRPO runs of --study; an eleventh run would repeat the first colour. */
const SERIES_COLOURS = ['#0072b2', '#d55e00', '#009e73', '#cc79a7', '#e69f00', '#56b4e9', '#000000', '#f0e442', '#882255', '#999933'];

export interface ChartOptions {
  title: string;
  xLabel?: string;
  width?: number;
  height?: number;
  /** Points given hover circles, at most; the line itself keeps every point. */
  maxMarkers?: number;
  /** Name the series in a legend; default: when there are several. */
  legend?: boolean;
}

export const REPORT_FILE = 'report.html';

const NOT_CHARTED = new Set(['step', 'stage', 'time']);

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** About `count` round tick values (1, 2 or 5 times a power of ten apart) inside [min, max]. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / Math.max(1, count - 1);
  const power = 10 ** Math.floor(Math.log10(raw));
  // The 1-2-5 multiple nearest to the raw step (on a log scale), as d3's tickIncrement picks it.
  const error = raw / power;
  const step = power * (error >= Math.sqrt(50) ? 10 : error >= Math.sqrt(10) ? 5 : error >= Math.sqrt(2) ? 2 : 1);
  const ticks: number[] = [];
  for (let t = Math.ceil(min / step) * step; t <= max + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/** [min, max] without spreading (a long run has more points than a call may take arguments). */
function extent(values: readonly number[]): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

/** The y range drawn: the data's, widened when flat so a constant series still gets a visible scale. */
function yRange(ys: readonly number[]): [number, number] {
  const [lo, hi] = extent(ys);
  if (hi > lo) return [lo, hi];
  const pad = Math.abs(lo) * 0.1 || 1;
  return [lo - pad, hi + pad];
}

export function lineChartSvg(input: Series | readonly Series[], options: ChartOptions): string {
  const all = Array.isArray(input) ? (input as readonly Series[]) : [input as Series];
  const several = options.legend ?? all.length > 1;
  const width = options.width ?? 520, legendRows = several ? Math.ceil(all.length / 3) : 0;
  const left = 64, right = 16, top = 30 + 14 * legendRows, bottom = 40;
  const height = (options.height ?? 240) + 14 * legendRows;
  const plotW = width - left - right, plotH = height - top - bottom;
  const lines = all.map((series, k) => ({
    name: series.name ?? '',
    colour: series.colour ?? SERIES_COLOURS[k % SERIES_COLOURS.length]!,
    points: series.x.map((x, i) => [x, series.y[i]!] as const).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)),
  }));
  const skipped = all.reduce((n, series) => n + series.x.length, 0) - lines.reduce((n, l) => n + l.points.length, 0);
  const title = `${options.title}${skipped > 0 ? ` (${skipped} non-finite value${skipped > 1 ? 's' : ''} not drawn)` : ''}`;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img">`,
    `<title>${escapeHtml(title)}</title>`,
    `<text x="${width / 2}" y="18" text-anchor="middle" class="t">${escapeHtml(title)}</text>`,
  ];
  const xs = lines.flatMap((l) => l.points.map(([x]) => x)), ys = lines.flatMap((l) => l.points.map(([, y]) => y));
  if (xs.length === 0) {
    out.push(`<text x="${width / 2}" y="${height / 2}" text-anchor="middle" class="l">no finite values</text></svg>`);
    return out.join('\n');
  }
  const [xLo, xHi] = extent(xs);
  const [x0, x1] = xHi > xLo ? [xLo, xHi] : [xLo - 1, xHi + 1];
  const [y0, y1] = yRange(ys);
  const px = (x: number) => left + ((x - x0) / (x1 - x0)) * plotW;
  const py = (y: number) => top + (1 - (y - y0) / (y1 - y0)) * plotH;
  const f = (v: number) => v.toFixed(1);

  out.push(`<rect x="${left}" y="${top}" width="${plotW}" height="${plotH}" class="frame"/>`);
  for (const t of niceTicks(y0, y1)) {
    out.push(`<line x1="${left}" x2="${left + plotW}" y1="${f(py(t))}" y2="${f(py(t))}" class="grid"/>`);
    out.push(`<text x="${left - 6}" y="${f(py(t) + 4)}" text-anchor="end" class="l">${escapeHtml(formatNumber(t))}</text>`);
  }
  for (const t of niceTicks(x0, x1).filter(Number.isInteger)) {
    out.push(`<line x1="${f(px(t))}" x2="${f(px(t))}" y1="${top + plotH}" y2="${top + plotH + 4}" class="axis"/>`);
    out.push(`<text x="${f(px(t))}" y="${top + plotH + 16}" text-anchor="middle" class="l">${t}</text>`);
  }
  out.push(`<text x="${left + plotW / 2}" y="${height - 6}" text-anchor="middle" class="l">${escapeHtml(options.xLabel ?? 'step')}</text>`);
  const maxMarkers = Math.max(1, Math.floor((options.maxMarkers ?? 500) / lines.length));
  lines.forEach(({ name, colour, points }, k) => {
    const who = several ? `${name}, ` : '';
    if (several) {
      const lx = left + (k % 3) * (plotW / 3), ly = 30 + 12 * Math.floor(k / 3);
      out.push(`<text x="${f(lx)}" y="${ly}" class="l" fill="${colour}">&#9632; ${escapeHtml(name)}</text>`);
    }
    if (points.length > 1) {
      const path = points.map(([x, y]) => `${f(px(x))},${f(py(y))}`).join(' ');
      out.push(`<polyline points="${path}" class="line" stroke="${colour}"><title>${escapeHtml(several ? `${options.title}: ${name}` : options.title)}</title></polyline>`);
    }
    const stride = Math.max(1, Math.ceil(points.length / maxMarkers));
    points.forEach(([x, y], i) => {
      if (i % stride !== 0 && i !== points.length - 1) return;
      out.push(`<circle cx="${f(px(x))}" cy="${f(py(y))}" r="2.5" class="pt" fill="${colour}"><title>${escapeHtml(who)}step ${x}: ${escapeHtml(formatNumber(y))}</title></circle>`);
    });
  });
  out.push('</svg>');
  return out.join('\n');
}

/** Metrics with at least one number in `rows`: known ones in their order, then the rest alphabetically. */
function chartedMetrics(rows: readonly MetricsRow[]): [string, string][] {
  const present = new Set<string>();
  for (const row of rows) for (const [k, v] of Object.entries(row)) if (typeof v === 'number' && !NOT_CHARTED.has(k)) present.add(k);
  const known = METRIC_LABELS.filter(([k]) => present.has(k)).map(([k, label]) => [k, label] as [string, string]);
  const knownNames = new Set(known.map(([k]) => k));
  const others = [...present].filter((k) => !knownNames.has(k)).sort().map((k) => [k, k] as [string, string]);
  return [...known, ...others];
}

function resultsTableHtml(t: ResultsTable): string {
  const cell = (v: string | number) => `<td>${escapeHtml(typeof v === 'number' ? formatNumber(v) : v)}</td>`;
  return [
    '<table>',
    t.caption ? `<caption>${escapeHtml(t.caption)}</caption>` : '',
    `<tr>${t.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr>`,
    ...t.rows.map((r) => `<tr>${r.map(cell).join('')}</tr>`),
    '</table>',
  ].join('\n');
}

const STYLE = `body{font-family:system-ui,sans-serif;margin:24px;color:#222}
.charts{display:flex;flex-wrap:wrap;gap:12px}
svg{background:#fff;border:1px solid #ddd}
.t{font-size:13px;font-weight:600}.l{font-size:11px;fill:#555}
.frame{fill:none;stroke:#bbb}.grid{stroke:#eee}.axis{stroke:#888}
.line{fill:none;stroke-width:1.5}.pt{fill-opacity:.6}
table{border-collapse:collapse;margin:12px 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#f4f4f4}
pre{background:#f8f8f8;padding:12px;overflow:auto}`;

function runName(row: MetricsRow): string {
  return typeof row['run'] === 'string' ? row['run'] : '';
}

export function renderHtmlReport(rows: readonly MetricsRow[], options: ReportOptions): string {
  const stages = [...new Set(rows.map((r) => r.stage))];
  const body: string[] = [`<h1>${escapeHtml(options.title)}</h1>`];
  if (options.results) body.push('<h2>Results</h2>', resultsTableHtml(options.results));
  if (rows.length === 0) body.push('<p>No metrics recorded yet.</p>');
  for (const stage of stages) {
    const stageRows = rows.filter((r) => r.stage === stage);
    // Rows named by `run` (several trainings in one report) are separate lines, never one.
    const runs = [...new Set(stageRows.map(runName))];
    const runRows = runs.map((run) => stageRows.filter((r) => runName(r) === run).sort((a, b) => a.step - b.step));
    const counts = runRows.map((rs, k) => `${runs[k] ? `${runs[k]}: ` : ''}${rs.length}`).join(', ');
    body.push(`<h2>Stage ${escapeHtml(stage)} (${escapeHtml(counts)} logged steps)</h2>`, '<div class="charts">');
    for (const [name, label] of chartedMetrics(stageRows)) {
      // A run keeps its colour in every chart, also where another run lacks the metric.
      const series = runRows.map((rs, k) => {
        const withValue = rs.filter((r) => typeof r[name] === 'number');
        return { x: withValue.map((r) => r.step), y: withValue.map((r) => r[name] as number), name: runs[k] || stage, colour: SERIES_COLOURS[k % SERIES_COLOURS.length]! };
      }).filter((sr) => sr.x.length > 0);
      body.push(lineChartSvg(series, { title: `${stage}: ${label}`, legend: runs.length > 1 }));
    }
    body.push('</div>');
  }
  if (options.configSummary) body.push('<h2>Config</h2>', `<pre>${escapeHtml(options.configSummary)}</pre>`);
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeHtml(options.title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head><body>',
    ...body,
    '</body></html>',
    '',
  ].join('\n');
}

/** Writes <outDir>/report.html via a temporary file and rename, so a viewer never sees half a report. */
export async function writeHtmlReport(outDir: string, rows: readonly MetricsRow[], options: ReportOptions): Promise<string> {
  await mkdir(outDir, { recursive: true });
  const path = join(outDir, REPORT_FILE);
  await writeFileAtomically(path, [new TextEncoder().encode(renderHtmlReport(rows, options))]);
  return path;
}
