/** Plain-text tables for the terminal: the first column (and any in `leftAligned`) left-aligned, the others right-aligned. */
import { fixedHalfAway } from '../train/number-text.js';

export interface TextTableOptions {
  /** Columns followed by a ` |` separator. */
  separatorAfter?: number[];
  /** Further left-aligned columns (free text such as notes). */
  leftAligned?: number[];
}

export function formatTextTable(header: readonly string[], rows: readonly (readonly string[])[], options: TextTableOptions = {}): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, c) => (c === 0 || options.leftAligned?.includes(c) ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)) + (options.separatorAfter?.includes(c) ? ' |' : ''))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w, c) => '-'.repeat(w) + (options.separatorAfter?.includes(c) ? '-+' : '')).join('--');
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** A percentage with one decimal, or '-' when absent. */
export function pct(value: number | null | undefined): string {
  return value === null || value === undefined ? '-' : fixedHalfAway(value, 1);
}
