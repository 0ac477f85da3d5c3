// The default job's results in the layout of the paper's Table 14: one row per
// training recipe, held-out accuracy as mean (and spread over seeds).
import type { HeldOutScores } from './evaluate.js';

export interface ResultRow extends HeldOutScores {
  seed: number;
  model: string;
}

function pct(x: number): string {
  return Number.isNaN(x) ? '   -' : (100 * x).toFixed(1).padStart(5);
}

export function summarise(rows: readonly ResultRow[]): { model: string; mean: ResultRow; min: number; max: number; n: number }[] {
  const models = [...new Set(rows.map((r) => r.model))];
  return models.map((model) => {
    const mine = rows.filter((r) => r.model === model);
    const mean = (f: (r: ResultRow) => number) => mine.reduce((s, r) => s + f(r), 0) / mine.length;
    const acc = mine.map((r) => r.pointwise);
    return {
      model,
      n: mine.length,
      min: Math.min(...acc),
      max: Math.max(...acc),
      mean: {
        seed: -1, model, pairs: mine[0]!.pairs,
        pointwise: mean((r) => r.pointwise), pointwiseTiesHalf: mean((r) => r.pointwiseTiesHalf), formatErrorRate: mean((r) => r.formatErrorRate),
        pairwise: mean((r) => r.pairwise), pairwiseFormatErrorRate: mean((r) => r.pairwiseFormatErrorRate),
      },
    };
  });
}

export function formatResultsTable(rows: readonly ResultRow[], seeds: number): string {
  const header = `Held-out accuracy (%) on ${rows[0]?.pairs ?? 0} synthetic pairs, mean over ${seeds} seed(s)` +
    (seeds > 1 ? ' [min..max of pointwise]' : '');
  const lines = [
    header,
    `${'Model'.padEnd(36)} ${'Pointwise'.padStart(9)} ${'ties=0.5'.padStart(9)} ${'fmt err'.padStart(8)} ${'Pairwise'.padStart(9)}`,
    '-'.repeat(76),
  ];
  for (const s of summarise(rows)) {
    const spread = seeds > 1 ? ` [${pct(s.min).trim()}..${pct(s.max).trim()}]` : '';
    lines.push(`${s.model.padEnd(36)} ${pct(s.mean.pointwise).padStart(9)} ${pct(s.mean.pointwiseTiesHalf).padStart(9)} ${pct(s.mean.formatErrorRate).padStart(8)} ${pct(s.mean.pairwise).padStart(9)}${spread}`);
  }
  lines.push('', 'Pointwise: correct iff score(chosen) > score(rejected); ties and malformed judgments count wrong',
    '(ties=0.5 counts them half). Pairwise: both responses in one prompt, random A/B order; the model',
    'is trained only on the pointwise template, as PaTaRM is.');
  return lines.join('\n');
}
