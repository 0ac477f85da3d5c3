/**
 * Small inline-SVG charts for the self-contained HTML report (no scripts, no external assets):
 * grouped bars, a line chart and a heat map. Values are percentages; null draws nothing.
 */

const PALETTE = ['#2f6db5', '#e07b39', '#4a9a5b', '#9b59b6', '#c0392b', '#7f8c8d'];
const FONT = 'font-family="system-ui, sans-serif" font-size="12"';

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

export interface ChartSeries {
  name: string;
  values: readonly (number | null)[];
}

/** Approximate width of a 12px label: enough to lay out legends without measuring text. */
const textWidth = (text: string) => 7 * text.length;

/** The legend's SVG and the x where it ends. */
function legend(series: readonly ChartSeries[], x: number, y: number): { svg: string; end: number } {
  let at = x;
  const parts = series.map((s, i) => {
    const part = `<rect x="${at}" y="${y - 10}" width="12" height="12" fill="${PALETTE[i % PALETTE.length]}"/><text x="${at + 16}" y="${y}" ${FONT}>${escapeXml(s.name)}</text>`;
    at += 16 + textWidth(s.name) + 18;
    return part;
  });
  return { svg: parts.join(''), end: at };
}

function yAxis(left: number, top: number, height: number, width: number, yMin: number, yMax: number): string {
  const ticks: string[] = [];
  const step = (yMax - yMin) / 5;
  // Labels as exact as the gridlines they name: a fifth of an integer range needs one decimal.
  for (let t = 0; t <= 5; t++) {
    const value = yMin + t * step;
    const y = top + height - (t / 5) * height;
    ticks.push(`<line x1="${left}" y1="${y}" x2="${left + width}" y2="${y}" stroke="#ddd"/><text x="${left - 6}" y="${y + 4}" text-anchor="end" ${FONT}>${value.toFixed(Number.isInteger(step) ? 0 : 1)}</text>`);
  }
  return ticks.join('');
}

export function groupedBarChart(options: { title: string; categories: readonly string[]; series: readonly ChartSeries[]; yMax?: number }): string {
  const { categories, series } = options;
  const yMax = options.yMax ?? 100;
  const left = 44;
  const top = 40;
  const plotHeight = 200;
  const groupWidth = Math.max(48, 18 * series.length + 16);
  const width = left + groupWidth * categories.length + 20;
  const height = top + plotHeight + 70;
  const barWidth = (groupWidth - 16) / series.length;
  const key = legend(series, left, 32);
  const bars: string[] = [];
  categories.forEach((category, c) => {
    const x0 = left + c * groupWidth + 8;
    series.forEach((s, i) => {
      const value = s.values[c];
      if (value === null || value === undefined) return;
      const h = (Math.max(0, Math.min(value, yMax)) / yMax) * plotHeight;
      const x = x0 + i * barWidth;
      bars.push(
        `<rect x="${x.toFixed(1)}" y="${(top + plotHeight - h).toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${PALETTE[i % PALETTE.length]}"><title>${escapeXml(`${s.name}, ${category}: ${value.toFixed(1)}`)}</title></rect>`,
      );
    });
    const cx = x0 + (groupWidth - 16) / 2;
    bars.push(`<text x="${cx}" y="${top + plotHeight + 14}" text-anchor="end" transform="rotate(-30 ${cx} ${top + plotHeight + 14})" ${FONT}>${escapeXml(category)}</text>`);
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${Math.max(width, key.end, left + textWidth(options.title))}" height="${height}" role="img" aria-label="${escapeXml(options.title)}">`,
    `<text x="${left}" y="16" font-weight="bold" ${FONT}>${escapeXml(options.title)}</text>`,
    key.svg,
    yAxis(left, top, plotHeight, groupWidth * categories.length, 0, yMax),
    ...bars,
    '</svg>',
  ].join('');
}

export function lineChart(options: { title: string; xLabel: string; x: readonly number[]; series: readonly ChartSeries[] }): string {
  const values = options.series.flatMap((s) => s.values).filter((v): v is number => v !== null);
  const low = values.length > 0 ? Math.min(...values) : 0;
  const high = values.length > 0 ? Math.max(...values) : 100;
  const yMin = Math.max(0, Math.floor(low - 2));
  const yMax = Math.min(100, Math.ceil(high + 2));
  const left = 44;
  const top = 40;
  const plotWidth = Math.max(240, 40 * options.x.length);
  const plotHeight = 200;
  const xFirst = options.x[0] ?? 1;
  const xLast = options.x[options.x.length - 1] ?? 1;
  const px = (x: number) => left + (xLast === xFirst ? plotWidth / 2 : ((x - xFirst) / (xLast - xFirst)) * plotWidth);
  const py = (y: number) => top + plotHeight - ((y - yMin) / (yMax - yMin || 1)) * plotHeight;
  const lines = options.series.map((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    const points = options.x.map((x, j) => [x, s.values[j]] as const).filter((pt): pt is readonly [number, number] => pt[1] !== null && pt[1] !== undefined);
    const path = points.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ');
    const dots = points.map(([x, y]) => `<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${color}"><title>${escapeXml(`${s.name}, k=${x}: ${y.toFixed(1)}`)}</title></circle>`);
    return `<polyline points="${path}" fill="none" stroke="${color}" stroke-width="2"/>${dots.join('')}`;
  });
  const key = legend(options.series, left, 32);
  const xTicks = options.x.map((x) => `<text x="${px(x).toFixed(1)}" y="${top + plotHeight + 16}" text-anchor="middle" ${FONT}>${x}</text>`);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${Math.max(left + plotWidth + 30, key.end, left + textWidth(options.title))}" height="${top + plotHeight + 44}" role="img" aria-label="${escapeXml(options.title)}">`,
    `<text x="${left}" y="16" font-weight="bold" ${FONT}>${escapeXml(options.title)}</text>`,
    key.svg,
    yAxis(left, top, plotHeight, plotWidth, yMin, yMax),
    ...lines,
    ...xTicks,
    `<text x="${left + plotWidth / 2}" y="${top + plotHeight + 36}" text-anchor="middle" ${FONT}>${escapeXml(options.xLabel)}</text>`,
    '</svg>',
  ].join('');
}

export function heatMap(options: { title: string; rows: readonly string[]; columns: readonly string[]; values: readonly (readonly (number | null)[])[] }): string {
  const cell = 80;
  const left = 150;
  const top = 56;
  const cells: string[] = [];
  options.rows.forEach((row, i) => {
    cells.push(`<text x="${left - 8}" y="${top + i * cell + cell / 2 + 4}" text-anchor="end" ${FONT}>${escapeXml(row)}</text>`);
    options.columns.forEach((_, j) => {
      const value = options.values[i]?.[j] ?? null;
      // White at 50% (chance), blue towards 100%, orange towards 0%.
      const t = value === null ? 0 : Math.max(-1, Math.min(1, (value - 50) / 50));
      const fill = value === null ? '#eee' : t >= 0 ? `rgba(47,109,181,${t.toFixed(2)})` : `rgba(224,123,57,${(-t).toFixed(2)})`;
      const x = left + j * cell;
      const y = top + i * cell;
      cells.push(`<rect x="${x}" y="${y}" width="${cell - 2}" height="${cell - 2}" fill="${fill}"/>`);
      cells.push(`<text x="${x + cell / 2}" y="${y + cell / 2 + 4}" text-anchor="middle" ${FONT}>${value === null ? '-' : value.toFixed(1)}</text>`);
    });
  });
  options.columns.forEach((column, j) => {
    cells.push(`<text x="${left + j * cell + cell / 2}" y="${top - 8}" text-anchor="middle" ${FONT}>${escapeXml(column)}</text>`);
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${left + cell * options.columns.length + 10}" height="${top + cell * options.rows.length + 10}" role="img" aria-label="${escapeXml(options.title)}">`,
    `<text x="0" y="16" font-weight="bold" ${FONT}>${escapeXml(options.title)}</text>`,
    ...cells,
    '</svg>',
  ].join('');
}
