import { describe, expect, it } from 'vitest';
import { lossWeights } from '../src/train/loss-aggregation.js';
import { chunks, packSequences, type PromptCompletion } from '../src/train/sequences.js';

// Per-token losses of a batch, aggregated through lossWeights micro-batch by micro-batch, against
// the definition of each mode computed directly from the sequences.
const rows: PromptCompletion[] = [
  { prompt: Int32Array.of(1, 2), completion: Int32Array.of(3, 4, 5) },
  { prompt: Int32Array.of(1), completion: Int32Array.of(6) },
  { prompt: Int32Array.of(1, 2, 3, 4), completion: Int32Array.of(7, 8, 9, 10, 11, 12, 13) },
  { prompt: Int32Array.of(2), completion: Int32Array.of() }, // a judgment with no token (stopped at once)
  { prompt: Int32Array.of(5, 5), completion: Int32Array.of(14, 15) },
];
/** A made-up loss for token i of row r, so each mode gives its own number. */
const tokenLoss = (r: number, i: number) => 0.3 * (r + 1) + 0.05 * i * i - 0.2;
const tokens = rows.reduce((s, r) => s + r.completion.length, 0);

function viaWeights(mode: Parameters<typeof lossWeights>[3], microBatch: number): number {
  let total = 0;
  let first = 0;
  for (const mb of chunks(rows, microBatch)) {
    const packed = packSequences(mb, 0);
    const { B, T } = packed.batch;
    const { weights, invCount } = lossWeights(packed.mask, B, T, mode, { tokens, sequences: rows.length });
    mb.forEach((r, b) => {
      for (let i = 0; i < r.completion.length; i++) total += tokenLoss(first + b, i) * weights[b * T + r.prompt.length + i - 1]! * invCount;
    });
    first += mb.length;
  }
  return total;
}

const perRow = rows.map((r, k) => Array.from({ length: r.completion.length }, (_, i) => tokenLoss(k, i)));
const sumOf = (a: number[]) => a.reduce((s, x) => s + x, 0);

describe('lossWeights', () => {
  const want = {
    'token-mean': sumOf(perRow.flat()) / tokens,
    'seq-mean-token-mean': sumOf(perRow.map((l) => (l.length ? sumOf(l) / l.length : 0))) / rows.length,
    'seq-mean-token-sum': sumOf(perRow.map(sumOf)) / rows.length,
  } as const;
  for (const [mode, value] of Object.entries(want) as [keyof typeof want, number][]) {
    it(`${mode}: the definition, whatever the micro-batching`, () => {
      // f32 weights (1 / a length) hold the loss to about 1e-8
      for (const microBatch of [1, 2, 5]) expect(viaWeights(mode, microBatch)).toBeCloseTo(value, 7);
    });
  }

  it('gives the three modes three different numbers on these sequences', () => {
    expect(new Set(Object.values(want).map((v) => v.toFixed(9))).size).toBe(3);
  });

  it('refuses a mask of the wrong size', () => {
    expect(() => lossWeights(new Float32Array(5), 2, 3, 'token-mean', { tokens: 1, sequences: 1 })).toThrow(/mask has 5 values, expected B\*T = 6/);
  });
});
