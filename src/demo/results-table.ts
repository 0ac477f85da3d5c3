// The default job's results in the layout of the paper's Table 14: one row per
// training recipe, held-out accuracy as mean (and spread over seeds), then, with
// several seeds, each GRPO recipe's change over SFT only seed by seed: a gain is
// only worth reporting when it is larger than what changing the seed does. Given the test
// prompts, each change also gets a confidence interval from a paired bootstrap over the prompts.
import { fixedHalfAway } from '../train/number-text.js';
import { pairedClusterBootstrap, type BootstrapInterval } from '../eval/bootstrap.js';
import type { HeldOutScores } from './evaluate.js';

export interface ResultRow extends HeldOutScores {
  seed: number;
  model: string;
}

/** The random initialisation's row: measured, but no recipe of its own to compare. */
export const UNTRAINED_MODEL = 'untrained';
/** The recipe every GRPO row is compared with, seed by seed. */
export const BASELINE_MODEL = 'SFT only';

function pct(x: number): string {
  return Number.isNaN(x) ? '   -' : points(x).padStart(5);
}

/** A fraction as percentage points with one decimal. */
export function points(x: number): string {
  return fixedHalfAway(100 * x, 1);
}

function signedPoints(x: number): string {
  return x >= 0 ? `+${points(x)}` : points(x);
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
        voting: mean((r) => r.voting), votingK: mine[0]!.votingK,
        pairwise: mean((r) => r.pairwise), pairwiseFormatErrorRate: mean((r) => r.pairwiseFormatErrorRate),
        ...(mine[0]!.pointwiseByGroup && {
          pointwiseByGroup: Object.fromEntries(Object.keys(mine[0]!.pointwiseByGroup).map((g) => [g, mean((r) => r.pointwiseByGroup?.[g] ?? NaN)])),
        }),
      },
    };
  });
}

export interface SeedChange {
  model: string;
  /** Pointwise accuracy minus SFT only's on the same seed, in seed order, as fractions. */
  perSeed: { seed: number; change: number }[];
  meanChange: number;
  /** max - min of SFT only's pointwise accuracy over the seeds. */
  baselineSpread: number;
  /** max - min of this recipe's pointwise accuracy over the seeds. */
  spread: number;
  /** Interval of meanChange from a paired bootstrap over each seed's test prompts (when they are known). */
  ci?: BootstrapInterval;
}

/** Each seed's test prompts, pair by pair: the clusters of the bootstrap. */
export type TestPromptsBySeed = ReadonlyMap<number, readonly string[]>;

/** A row's per-pair credits with its seed's test prompts, when the row has them and the prompts are known. */
function creditSample(r: ResultRow, prompts: TestPromptsBySeed | undefined): { clusters: readonly string[]; credits: readonly number[] } | undefined {
  const clusters = prompts?.get(r.seed);
  if (!clusters || !r.pointwisePerPair) return undefined;
  if (clusters.length !== r.pointwisePerPair.length) {
    throw new Error(`results table: seed ${r.seed} has ${clusters.length} test prompts but ${r.model} has ${r.pointwisePerPair.length} per-pair credits`);
  }
  return { clusters, credits: r.pointwisePerPair };
}

/** Each non-baseline recipe's pointwise change over SFT only on the same seed. */
export function changesOverBaseline(rows: readonly ResultRow[], prompts?: TestPromptsBySeed): SeedChange[] {
  const baselineRows = new Map(rows.filter((r) => r.model === BASELINE_MODEL).map((r) => [r.seed, r]));
  const baseline = new Map([...baselineRows].map(([seed, r]) => [seed, r.pointwise]));
  if (baseline.size === 0) return [];
  const range = (xs: number[]) => Math.max(...xs) - Math.min(...xs);
  const models = [...new Set(rows.map((r) => r.model))].filter((m) => m !== BASELINE_MODEL && m !== UNTRAINED_MODEL);
  return models.map((model) => {
    const mine = rows.filter((r) => r.model === model && baseline.has(r.seed));
    const perSeed = mine.map((r) => ({ seed: r.seed, change: r.pointwise - baseline.get(r.seed)! })).sort((a, b) => a.seed - b.seed);
    const samples = mine.map((r) => {
      const system = creditSample(r, prompts), base = creditSample(baselineRows.get(r.seed)!, prompts);
      return system && base ? { clusters: system.clusters, baseline: base.credits, system: system.credits } : undefined;
    });
    return {
      model,
      perSeed,
      meanChange: perSeed.reduce((s, c) => s + c.change, 0) / perSeed.length,
      baselineSpread: range([...baseline.values()]),
      spread: range(mine.map((r) => r.pointwise)),
      ...(samples.length > 0 && samples.every((x) => x !== undefined) && { ci: pairedClusterBootstrap(samples) }),
    };
  }).filter((c) => c.perSeed.length > 0);
}

/**
 * How much test-prompt sampling alone moves SFT only's pointwise accuracy on one seed: the bootstrap
 * standard deviation over its test prompts, averaged over the seeds (undefined without prompts).
 */
export function baselineTestSd(rows: readonly ResultRow[], prompts?: TestPromptsBySeed): number | undefined {
  const sds = rows.filter((r) => r.model === BASELINE_MODEL).map((r) => {
    const sample = creditSample(r, prompts);
    return sample && pairedClusterBootstrap([{ clusters: sample.clusters, baseline: sample.credits.map(() => 0), system: sample.credits }]).sd;
  });
  return sds.length > 0 && sds.every((x) => x !== undefined) ? sds.reduce((a, b) => a + b, 0) / sds.length : undefined;
}

/** The table as printed; `changes` (from changesOverBaseline) may be passed when the caller already has them. */
export function formatResultsTable(
  rows: readonly ResultRow[], seeds: number, prompts?: TestPromptsBySeed, changes: readonly SeedChange[] = changesOverBaseline(rows, prompts),
): string {
  const k = rows[0]?.votingK ?? 0;
  const header = `Held-out accuracy (%) on ${rows[0]?.pairs ?? 0} synthetic pairs, mean over ${seeds} seed(s)` +
    (seeds > 1 ? ' [min..max of pointwise]' : '');
  const lines = [
    header,
    `${'Model'.padEnd(36)} ${'Pointwise'.padStart(9)} ${'ties=0.5'.padStart(9)} ${'fmt err'.padStart(8)} ${`vote@${k}`.padStart(8)} ${'Pairwise'.padStart(9)}`,
    '-'.repeat(85),
  ];
  for (const s of summarise(rows)) {
    const spread = seeds > 1 ? ` [${pct(s.min).trim()}..${pct(s.max).trim()}]` : '';
    lines.push(`${s.model.padEnd(36)} ${pct(s.mean.pointwise).padStart(9)} ${pct(s.mean.pointwiseTiesHalf).padStart(9)} ${pct(s.mean.formatErrorRate).padStart(8)} ${pct(s.mean.voting).padStart(8)} ${pct(s.mean.pairwise).padStart(9)}${spread}`);
  }
  lines.push(...groupBlock(summarise(rows)));
  const withCi = changes.length > 0 && changes.every((c) => c.ci);
  if (seeds > 1 || withCi) {
    lines.push('', `Pointwise change over ${BASELINE_MODEL}${seeds > 1 ? ', seed by seed' : ''} (points${withCi ? '; 95% CI over the test prompts' : ''}):`);
    for (const c of changes) {
      const ci = c.ci ? ` (CI ${signedPoints(c.ci.lo)}..${signedPoints(c.ci.hi)})` : '';
      if (seeds === 1) { lines.push(`  ${c.model.padEnd(34)} ${signedPoints(c.meanChange)}${ci}`); continue; }
      const each = c.perSeed.map((p) => signedPoints(p.change)).join(', ');
      lines.push(`  ${c.model.padEnd(34)} ${each}; mean ${signedPoints(c.meanChange)}${ci} vs seed spread ${points(c.baselineSpread)} (${BASELINE_MODEL}) / ${points(c.spread)} (this recipe)`);
    }
    const sd = baselineTestSd(rows, prompts);
    if (sd !== undefined) {
      lines.push(`  CI: paired bootstrap over each seed's test prompts (a prompt's pairs drawn together). Drawing the`,
        `  test prompts again alone moves ${BASELINE_MODEL}'s pointwise accuracy on one seed by s.d. ${points(sd)} points.`);
    }
  }
  lines.push('', 'Pointwise: one greedy judgment per response; correct iff score(chosen) > score(rejected); ties and',
    `malformed judgments count wrong (ties=0.5 counts them half). vote@${k}: the mean score of ${k} judgments at`,
    'temperature 1 per response, compared the same way. Pairwise: both responses in one prompt, chosen first',
    'in a random half of the pairs; the model is trained only on the pointwise template, as PaTaRM is.');
  return lines.join('\n');
}

/** Pointwise accuracy per group of pairs (the rows' pointwiseByGroup), when there are several groups. */
function groupBlock(summaries: ReturnType<typeof summarise>): string[] {
  const groups = [...new Set(summaries.flatMap((s) => Object.keys(s.mean.pointwiseByGroup ?? {})))];
  if (groups.length < 2) return [];
  const width = Math.max(9, ...groups.map((g) => g.length));
  return [
    '', 'Pointwise (%) by pair type',
    `${'Model'.padEnd(36)} ${groups.map((g) => g.padStart(width)).join(' ')}`,
    ...summaries.map((s) => `${s.model.padEnd(36)} ${groups.map((g) => pct(s.mean.pointwiseByGroup?.[g] ?? NaN).padStart(width)).join(' ')}`),
  ];
}
