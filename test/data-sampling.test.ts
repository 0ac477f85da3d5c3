import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  PairSampler,
  deriveSeed,
  filterByTeacherMargin,
  groupRolloutsByPair,
  injectLabelNoise,
  mulberry32,
  pairsToPointwiseRows,
  seededPermutation,
  type PairSide,
  type PreferencePair,
} from '../src/data/index.js';

const makePairs = (n: number): PreferencePair[] =>
  Array.from({ length: n }, (_, i) => ({ id: `p${i}`, prompt: `q${i}`, chosen: `c${i}`, rejected: `r${i}` }));

describe('pairsToPointwiseRows', () => {
  it('emits chosen then rejected per pair, sharing the pair id and labels', () => {
    const pairs: PreferencePair[] = [
      { id: 'x', prompt: 'q', chosen: 'good', rejected: 'bad', subset: 'math-prm' },
      { id: 'y', prompt: [{ role: 'user', content: 'hi' }], chosen: 'c', rejected: 'r' },
    ];
    expect(pairsToPointwiseRows(pairs)).toEqual([
      { pairId: 'x', side: 'chosen', prompt: 'q', response: 'good', subset: 'math-prm' },
      { pairId: 'x', side: 'rejected', prompt: 'q', response: 'bad', subset: 'math-prm' },
      { pairId: 'y', side: 'chosen', prompt: [{ role: 'user', content: 'hi' }], response: 'c' },
      { pairId: 'y', side: 'rejected', prompt: [{ role: 'user', content: 'hi' }], response: 'r' },
    ]);
  });
});

describe('seeded PRNG', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const c = mulberry32(43);
    const seqA = Array.from({ length: 5 }, a);
    expect(Array.from({ length: 5 }, b)).toEqual(seqA);
    expect(Array.from({ length: 5 }, c)).not.toEqual(seqA);
    expect(seqA.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(deriveSeed(42, 0)).not.toBe(deriveSeed(42, 1));
  });

  it('rejects seeds outside uint32', () => {
    expect(() => mulberry32(-1)).toThrow(/seed/);
    expect(() => mulberry32(1.5)).toThrow(/seed/);
    expect(() => mulberry32(2 ** 32)).toThrow(/seed/);
  });

  it('permutations are permutations and roughly uniform', () => {
    const counts = Array.from({ length: 4 }, () => [0, 0, 0, 0]);
    const trials = 8000;
    for (let t = 0; t < trials; t++) {
      const perm = seededPermutation(4, deriveSeed(7, t));
      expect([...perm].sort()).toEqual([0, 1, 2, 3]);
      perm.forEach((item, pos) => counts[pos]![item]!++);
    }
    // Each item lands in each position with probability 1/4 (2000 expected, sd ~39).
    for (const row of counts) for (const c of row) expect(Math.abs(c - trials / 4)).toBeLessThan(200);
  });
});

describe('PairSampler', () => {
  it('requires an even batch size in rows and some pairs', () => {
    expect(() => new PairSampler(makePairs(3), { batchRows: 3, seed: 1 })).toThrow(/even integer/);
    expect(() => new PairSampler(makePairs(3), { batchRows: 0, seed: 1 })).toThrow(/even integer/);
    expect(() => new PairSampler([], { batchRows: 2, seed: 1 })).toThrow(/no pairs/);
  });

  it('shuffles: different epochs and seeds give different orders, the same seed the same order', () => {
    const pairs = makePairs(20);
    const s = new PairSampler(pairs, { batchRows: 40, seed: 5 });
    const epoch0 = s.nextBatch().pairIndices;
    const epoch1 = s.nextBatch().pairIndices;
    expect(epoch0).not.toEqual(epoch1);
    expect(new PairSampler(pairs, { batchRows: 40, seed: 5 }).nextBatch().pairIndices).toEqual(epoch0);
    expect(new PairSampler(pairs, { batchRows: 40, seed: 6 }).nextBatch().pairIndices).not.toEqual(epoch0);
    expect(epoch0).not.toEqual([...epoch0].sort((a, b) => a - b));
  });

  it('property: never splits a pair and visits every pair exactly once per epoch', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 1, max: 3 }),
        (pairCount, pairsPerBatch, seed, epochs) => {
          const pairs = makePairs(pairCount);
          const sampler = new PairSampler(pairs, { batchRows: 2 * pairsPerBatch, seed });
          for (let epoch = 0; epoch < epochs; epoch++) {
            const seen: string[] = [];
            while (seen.length < pairCount) {
              const batch = sampler.nextBatch();
              expect(batch.epoch).toBe(epoch);
              expect(batch.pairs.length).toBeGreaterThan(0);
              expect(batch.pairs.length).toBeLessThanOrEqual(pairsPerBatch);
              const rows = pairsToPointwiseRows(batch.pairs);
              expect(rows.length % 2).toBe(0);
              for (let k = 0; k < rows.length; k += 2) {
                expect(rows[k]!.pairId).toBe(rows[k + 1]!.pairId);
                expect([rows[k]!.side, rows[k + 1]!.side]).toEqual(['chosen', 'rejected']);
              }
              seen.push(...batch.pairs.map((p) => p.id));
            }
            expect(seen.length).toBe(pairCount);
            expect(new Set(seen).size).toBe(pairCount);
            expect(sampler.state()).toMatchObject({ epoch: epoch + 1, position: 0 });
          }
        },
      ),
    );
  });

  it('property: resuming from a serialised state continues exactly where it stopped', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: 30 }),
        (pairCount, pairsPerBatch, seed, consumed) => {
          const pairs = makePairs(pairCount);
          const options = { batchRows: 2 * pairsPerBatch, seed };
          const original = new PairSampler(pairs, options);
          for (let i = 0; i < consumed; i++) original.nextBatch();
          const saved = JSON.parse(JSON.stringify(original.state())) as ReturnType<typeof original.state>;
          const resumed = new PairSampler(pairs, { ...options, seed: 0 }, saved); // the state's seed wins
          for (let i = 0; i < 5; i++) expect(resumed.nextBatch()).toEqual(original.nextBatch());
        },
      ),
    );
  });

  it('rejects a state taken with another dataset or out of range', () => {
    const state = { seed: 1, epoch: 0, position: 0, pairCount: 10 };
    expect(() => new PairSampler(makePairs(9), { batchRows: 2, seed: 1 }, state)).toThrow(/saved with 10 pairs/);
    expect(() => new PairSampler(makePairs(10), { batchRows: 2, seed: 1 }, { ...state, position: 10 })).toThrow(/position 10/);
  });

  it('reports the batches left in the epoch', () => {
    const s = new PairSampler(makePairs(5), { batchRows: 4, seed: 3 });
    expect(s.batchesLeftInEpoch()).toBe(3);
    s.nextBatch();
    expect(s.batchesLeftInEpoch()).toBe(2);
    s.nextBatch();
    expect(s.nextBatch().pairs.length).toBe(1);
    expect(s.batchesLeftInEpoch()).toBe(3);
  });
});

describe('groupRolloutsByPair', () => {
  const rollout = (pairId: string, side: PairSide, text: string) => ({ pairId, side, text });

  it('groups by pair id and side, not by position', () => {
    const rollouts = [
      rollout('b', 'rejected', 'b-r1'),
      rollout('a', 'chosen', 'a-c1'),
      rollout('b', 'chosen', 'b-c1'),
      rollout('a', 'rejected', 'a-r1'),
      rollout('a', 'chosen', 'a-c2'),
      rollout('b', 'chosen', 'b-c2'),
      rollout('a', 'rejected', 'a-r2'),
      rollout('b', 'rejected', 'b-r2'),
    ];
    const groups = groupRolloutsByPair(rollouts, { rolloutsPerSide: 2 });
    expect(groups.map((g) => [g.pairId, g.chosen.map((r) => r.text), g.rejected.map((r) => r.text)])).toEqual([
      ['b', ['b-c1', 'b-c2'], ['b-r1', 'b-r2']],
      ['a', ['a-c1', 'a-c2'], ['a-r1', 'a-r2']],
    ]);
  });

  it('property: any shuffle of the rollouts gives the same groups (up to order)', () => {
    const rollouts = ['a', 'b', 'c'].flatMap((id) =>
      (['chosen', 'rejected'] as const).flatMap((side) => [0, 1, 2].map((k) => rollout(id, side, `${id}-${side}-${k}`))),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (seed) => {
        const shuffled = seededPermutation(rollouts.length, seed).map((i) => rollouts[i]!);
        for (const g of groupRolloutsByPair(shuffled, { rolloutsPerSide: 3 })) {
          expect(g.chosen.every((r) => r.pairId === g.pairId && r.side === 'chosen')).toBe(true);
          expect(g.rejected.map((r) => r.text).sort()).toEqual([0, 1, 2].map((k) => `${g.pairId}-rejected-${k}`));
        }
      }),
    );
  });

  it('rejects a pair with a missing side, a wrong count or an unknown side', () => {
    expect(() => groupRolloutsByPair([rollout('a', 'chosen', 'x')])).toThrow(/pair 'a' has no rejected rollouts/);
    expect(() => groupRolloutsByPair([rollout('a', 'chosen', 'x'), rollout('a', 'rejected', 'y')], { rolloutsPerSide: 2 })).toThrow(
      /pair 'a' has 1 chosen rollouts, expected 2/,
    );
    expect(() => groupRolloutsByPair([{ pairId: 'a', side: 'left' as PairSide }])).toThrow(/side 'left'/);
  });
});

describe('filterByTeacherMargin', () => {
  it('keeps pairs whose teacher margin exceeds the threshold (default 2)', () => {
    const items = [
      { id: 'wide', chosenScore: 9, rejectedScore: 3 },
      { id: 'exactly2', chosenScore: 7, rejectedScore: 5 },
      { id: 'narrow', chosenScore: 7.5, rejectedScore: 5 },
      { id: 'reversed', chosenScore: 2, rejectedScore: 8 },
      { id: 'unparsed', chosenScore: null, rejectedScore: 1 },
    ];
    const { kept, dropped } = filterByTeacherMargin(items);
    expect(kept.map((i) => i.id)).toEqual(['wide', 'narrow']);
    expect(dropped.map((d) => [d.item.id, d.index, d.margin])).toEqual([
      ['exactly2', 1, 2],
      ['reversed', 3, -6],
      ['unparsed', 4, null],
    ]);
    expect(dropped[2]!.reason).toMatch(/no valid teacher score for the chosen response/);
    expect(filterByTeacherMargin(items, { threshold: 0 }).kept.map((i) => i.id)).toEqual(['wide', 'exactly2', 'narrow']);
  });

  it('treats a fractional margin that equals the threshold but for float rounding as equal, as PAR does', () => {
    const items = [
      { id: 'float2', chosenScore: 4.4, rejectedScore: 2.4 }, // 2.0000000000000004
      { id: 'int2', chosenScore: 7, rejectedScore: 5 },
      { id: 'above', chosenScore: 4.5, rejectedScore: 2.4 },
    ];
    expect(4.4 - 2.4).toBeGreaterThan(2);
    const { kept, dropped } = filterByTeacherMargin(items);
    expect(kept.map((i) => i.id)).toEqual(['above']);
    expect(dropped.map((d) => [d.item.id, d.margin])).toEqual([['float2', 4.4 - 2.4], ['int2', 2]]);
    expect(dropped[0]!.reason).toBe('teacher margin 2.0000000000000004 does not exceed 2 (it is within the tie tolerance 1e-9, a rounding error)');
    expect(dropped[1]!.reason).toBe('teacher margin 2 does not exceed 2');
    // 0.1 + 0.2 is 0.30000000000000004: a tie with a threshold of 0.3 too
    expect(filterByTeacherMargin([{ chosenScore: 0.1 + 0.2, rejectedScore: 0 }], { threshold: 0.3 }).kept).toEqual([]);
  });
});

describe('injectLabelNoise', () => {
  it('flips exactly round(fraction * n) pairs chosen by the seed, and records them', () => {
    const pairs = makePairs(10);
    const result = injectLabelNoise(pairs, { fraction: 0.3, seed: 11 });
    expect(result.flippedIndices).toHaveLength(3);
    expect(result.flippedIds).toEqual(result.flippedIndices.map((i) => `p${i}`));
    result.pairs.forEach((p, i) => {
      const flipped = result.flippedIndices.includes(i);
      expect(p.labelFlipped).toBe(flipped);
      expect([p.chosen, p.rejected]).toEqual(flipped ? [`r${i}`, `c${i}`] : [`c${i}`, `r${i}`]);
    });
    expect(pairs[result.flippedIndices[0]!]!.chosen).toMatch(/^c/); // input untouched
    expect(injectLabelNoise(pairs, { fraction: 0.3, seed: 11 }).flippedIndices).toEqual(result.flippedIndices);
    expect(injectLabelNoise(makePairs(5), { fraction: 0.5, seed: 1 }).flippedIndices).toHaveLength(3); // round(2.5)
  });

  it("swaps each side's teacher judgment and score with its response, and leaves the rest as it was", () => {
    const judged: PreferencePair = { id: 'j', prompt: 'q', chosen: 'c', rejected: 'r', task: 'math', chosenJudgment: 'jc <answer>9</answer>', rejectedJudgment: 'jr <answer>2</answer>' };
    const [flipped] = injectLabelNoise([judged], { fraction: 1, seed: 0 }).pairs;
    expect(flipped).toEqual({ id: 'j', prompt: 'q', chosen: 'r', rejected: 'c', task: 'math', chosenJudgment: 'jr <answer>2</answer>', rejectedJudgment: 'jc <answer>9</answer>', labelFlipped: true });
    expect(Object.keys(flipped!)).toEqual([...Object.keys(judged), 'labelFlipped']);
    // A judgment of one side only moves to the other side's name; none is made up for the side without one.
    const [oneSided] = injectLabelNoise([{ id: 'o', prompt: 'q', chosen: 'c', rejected: 'r', chosenJudgment: 'jc' }], { fraction: 1, seed: 0 }).pairs;
    expect(oneSided).toEqual({ id: 'o', prompt: 'q', chosen: 'r', rejected: 'c', rejectedJudgment: 'jc', labelFlipped: true });
    expect(oneSided).not.toHaveProperty('chosenJudgment');
    const [scored] = injectLabelNoise([{ id: 's', chosen: 'c', rejected: 'r', chosenScore: 9, rejectedScore: null }], { fraction: 1, seed: 0 }).pairs;
    expect(scored).toEqual({ id: 's', chosen: 'r', rejected: 'c', chosenScore: null, rejectedScore: 9, labelFlipped: true });
    expect(injectLabelNoise([judged], { fraction: 0, seed: 0 }).pairs).toEqual([{ ...judged, labelFlipped: false }]);
  });

  it('property: the count is always round(fraction * n) and the indices are distinct', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 80 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.nat(), (n, fraction, seed) => {
        const { flippedIndices, pairs } = injectLabelNoise(makePairs(n), { fraction, seed });
        expect(flippedIndices.length).toBe(Math.round(fraction * n));
        expect(new Set(flippedIndices).size).toBe(flippedIndices.length);
        expect(pairs.filter((p) => p.labelFlipped).length).toBe(flippedIndices.length);
      }),
    );
  });

  it('rejects fractions outside [0, 1]', () => {
    expect(() => injectLabelNoise(makePairs(3), { fraction: 1.2, seed: 0 })).toThrow(/fraction/);
    expect(() => injectLabelNoise(makePairs(3), { fraction: Number.NaN, seed: 0 })).toThrow(/fraction/);
  });
});
