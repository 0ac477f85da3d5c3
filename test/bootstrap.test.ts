// The paired cluster bootstrap behind the results table's confidence intervals: checked against
// the exact bootstrap distribution of a case small enough to enumerate, and for what makes it a
// *cluster* bootstrap (pairs of one prompt move together) and a *paired* one.
import { describe, expect, it } from 'vitest';
import { pairedClusterBootstrap, type PairedClusterSample } from '../src/eval/bootstrap.js';

/** Items with given per-cluster differences (system 1 / baseline 0 per item where the difference is 1). */
function sample(clusterDiffs: readonly number[][]): PairedClusterSample {
  const clusters: string[] = [], baseline: number[] = [], system: number[] = [];
  clusterDiffs.forEach((items, c) => items.forEach((d) => { clusters.push(`prompt ${c}`); baseline.push(0.5); system.push(0.5 + d); }));
  return { clusters, baseline, system };
}

describe('paired cluster bootstrap', () => {
  it('matches the exact bootstrap distribution of two clusters', () => {
    // Cluster A: 1 item, difference 1. Cluster B: 3 items, difference 0. Two draws with replacement:
    // AA (1/4) -> 1, AB or BA (1/2) -> 1/4, BB (1/4) -> 0. Mean 3/8; variance 18/64 - 9/64, s.d. 3/8.
    const ci = pairedClusterBootstrap([sample([[1], [0, 0, 0]])], { reps: 20000, level: 0.9, seed: 3 });
    expect(ci.estimate).toBeCloseTo(1 / 4, 12);
    expect(ci.lo).toBe(0);
    expect(ci.hi).toBe(1);
    expect(ci.sd).toBeCloseTo(3 / 8, 2);
    const tight = pairedClusterBootstrap([sample([[1], [0, 0, 0]])], { reps: 20000, level: 0.4, seed: 3 });
    expect(tight.lo).toBe(0.25); // the middle 40% lies inside the AB/BA half
    expect(tight.hi).toBe(0.25);
  });

  it('collapses to the difference when every item differs by the same amount', () => {
    const ci = pairedClusterBootstrap([sample([[0.25, 0.25], [0.25], [0.25, 0.25, 0.25]])], { reps: 500 });
    expect(ci.estimate).toBeCloseTo(0.25, 12);
    expect(ci.lo).toBeCloseTo(0.25, 12);
    expect(ci.hi).toBeCloseTo(0.25, 12);
    expect(ci.sd).toBeLessThan(1e-12);
  });

  it('is wider when the differences come in whole prompts than when they are spread over prompts', () => {
    // The same 100 items and the same 10 differences of 1: in one prompt of 10 items, or one per prompt.
    const clustered = sample([Array(10).fill(1), ...Array.from({ length: 9 }, () => Array(10).fill(0))]);
    const spread = sample(Array.from({ length: 10 }, () => [1, ...Array(9).fill(0)]));
    const a = pairedClusterBootstrap([clustered], { reps: 4000, seed: 1 });
    const b = pairedClusterBootstrap([spread], { reps: 4000, seed: 1 });
    expect(a.estimate).toBeCloseTo(0.1, 12);
    expect(b.estimate).toBeCloseTo(0.1, 12);
    expect(b.sd).toBeLessThan(1e-12); // each prompt has the same mean difference
    expect(a.sd).toBeGreaterThan(0.08); // exact: sqrt(10 * 0.1 * 0.9) / 10 = 0.095 (how many of 10 draws hit that prompt)
  });

  it('pairs the two systems item by item: a shared per-prompt difficulty does not widen the interval', () => {
    // Both systems fail the same prompts; the system is better by 0.1 everywhere.
    const clusters = Array.from({ length: 40 }, (_, i) => `p${i % 8}`);
    const baseline = clusters.map((_, i) => (i % 8 < 3 ? 0 : 0.8));
    const system = baseline.map((v) => v + 0.1);
    const ci = pairedClusterBootstrap([{ clusters, baseline, system }], { reps: 1000 });
    expect(ci.lo).toBeCloseTo(0.1, 12);
    expect(ci.hi).toBeCloseTo(0.1, 12);
  });

  it('averages the samples (seeds), each resampled on its own', () => {
    const ci = pairedClusterBootstrap([sample([[1], [1]]), sample([[0], [0], [0]])], { reps: 300 });
    expect(ci.estimate).toBeCloseTo(0.5, 12);
    expect(ci.lo).toBeCloseTo(0.5, 12); // neither sample varies under its own resampling
    expect(ci.hi).toBeCloseTo(0.5, 12);
  });

  it('gives the same interval for the same seed and rejects bad input with a message', () => {
    const s = sample([[1, 0], [0], [1, 1, 0], [0, 0]]);
    expect(pairedClusterBootstrap([s], { seed: 9, reps: 300 })).toEqual(pairedClusterBootstrap([s], { seed: 9, reps: 300 }));
    expect(() => pairedClusterBootstrap([])).toThrow(/no samples/);
    expect(() => pairedClusterBootstrap([{ clusters: ['a', 'b'], baseline: [1], system: [1, 0] }])).toThrow(/sample 0: 2 cluster labels, 1 baseline and 2 system values/);
    expect(() => pairedClusterBootstrap([{ clusters: [], baseline: [], system: [] }])).toThrow(/sample 0: no items/);
    expect(() => pairedClusterBootstrap([s], { level: 1 })).toThrow(/level must be in \(0, 1\)/);
    expect(() => pairedClusterBootstrap([s], { reps: 1 })).toThrow(/reps must be an integer of at least 2/);
  });

  it('refuses a non-finite value, naming the sample and the item', () => {
    // A NaN would otherwise sort to the end and leave a plausible-looking lower bound.
    const good = sample([[1, 0], [0]]);
    expect(() => pairedClusterBootstrap([good, { clusters: ['a', 'b', 'c'], baseline: [0, 1, 0], system: [1, NaN, 1] }], { reps: 100 }))
      .toThrow(/sample 1, item 1 \(cluster 'b'\): system value is NaN/);
    expect(() => pairedClusterBootstrap([{ clusters: ['a', 'b'], baseline: [0, -Infinity], system: [1, 1] }], { reps: 100 }))
      .toThrow(/sample 0, item 1 \(cluster 'b'\): baseline value is -Infinity/);
  });
});
