// Confidence intervals that respect how a held-out set is drawn. Pairs that share a prompt rise
// and fall together (a judge that misreads a prompt loses all of its pairs), so resampling pairs
// one by one understates the noise of a test set with few prompts. The unit resampled here is the
// cluster (the prompt); with several seeds, each seed's test set is resampled on its own and the
// statistic is the mean over the seeds, as the results table reports it.
import { mulberry32 } from '../data/prng.js';

export interface PairedClusterSample {
  /** Cluster label of each item (e.g. the pair's prompt). */
  clusters: readonly string[];
  /** Per-item values of the baseline and of the system compared with it, in the order of clusters. */
  baseline: readonly number[];
  system: readonly number[];
}

export interface BootstrapInterval {
  /** The statistic on the data as measured: mean over samples of mean(system - baseline). */
  estimate: number;
  /** Percentile interval of the resampled statistic. */
  lo: number;
  hi: number;
  /** Standard deviation of the resampled statistic. */
  sd: number;
  level: number;
  reps: number;
}

export interface BootstrapOptions {
  /** Resamples (default 4000). */
  reps?: number;
  /** Coverage of the interval (default 0.95). */
  level?: number;
  seed?: number;
}

/** Each cluster's summed difference and item count, clusters in first-seen order. */
function clusterSums(s: PairedClusterSample, where: string): { diff: Float64Array; count: Float64Array } {
  if (s.baseline.length !== s.clusters.length || s.system.length !== s.clusters.length) {
    throw new Error(`${where}: ${s.clusters.length} cluster labels, ${s.baseline.length} baseline and ${s.system.length} system values`);
  }
  if (s.clusters.length === 0) throw new Error(`${where}: no items`);
  const index = new Map<string, number>();
  const diff: number[] = [], count: number[] = [];
  s.clusters.forEach((c, i) => {
    // A NaN would sort to the end of the resampled statistics and leave a plausible-looking bound.
    for (const [side, values] of [['baseline', s.baseline], ['system', s.system]] as const) {
      if (!Number.isFinite(values[i])) throw new Error(`${where}, item ${i} (cluster '${c}'): ${side} value is ${values[i]}; values must be finite`);
    }
    let k = index.get(c);
    if (k === undefined) { k = diff.length; index.set(c, k); diff.push(0); count.push(0); }
    diff[k]! += s.system[i]! - s.baseline[i]!;
    count[k]! += 1;
  });
  return { diff: Float64Array.from(diff), count: Float64Array.from(count) };
}

/**
 * Paired cluster bootstrap of mean over samples of mean(system - baseline): in every resample each
 * sample's clusters are drawn with replacement, as many as it has, and its mean is the drawn
 * clusters' summed difference over their summed item count. Seeded, so a report is reproducible.
 */
export function pairedClusterBootstrap(samples: readonly PairedClusterSample[], o: BootstrapOptions = {}): BootstrapInterval {
  const reps = o.reps ?? 4000, level = o.level ?? 0.95;
  if (samples.length === 0) throw new Error('pairedClusterBootstrap: no samples');
  if (!Number.isInteger(reps) || reps < 2) throw new Error(`pairedClusterBootstrap: reps must be an integer of at least 2, got ${reps}`);
  if (!(level > 0 && level < 1)) throw new Error(`pairedClusterBootstrap: level must be in (0, 1), got ${level}`);
  const sums = samples.map((s, i) => clusterSums(s, `pairedClusterBootstrap: sample ${i}`));
  // pick(j, n): which of a sample's n clusters fills its j-th draw (j itself for the data as measured).
  const mean = (pick: (j: number, n: number) => number) => sums.reduce((total, { diff, count }) => {
    let d = 0, n = 0;
    for (let j = 0; j < diff.length; j++) { const k = pick(j, diff.length); d += diff[k]!; n += count[k]!; }
    return total + d / n;
  }, 0) / sums.length;

  const random = mulberry32(o.seed ?? 0);
  const stats = new Float64Array(reps);
  for (let r = 0; r < reps; r++) stats[r] = mean((_, n) => Math.floor(random() * n));
  stats.sort();
  const at = (q: number) => stats[Math.min(reps - 1, Math.max(0, Math.round(q * (reps - 1))))]!;
  const avg = stats.reduce((a, b) => a + b, 0) / reps;
  const sd = Math.sqrt(stats.reduce((a, b) => a + (b - avg) ** 2, 0) / (reps - 1));
  return { estimate: mean((j) => j), lo: at((1 - level) / 2), hi: at((1 + level) / 2), sd, level, reps };
}
