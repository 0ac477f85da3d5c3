/**
 * Label-noise injection for robustness experiments: swap chosen and rejected in exactly
 * round(fraction * n) pairs, picked by a seeded shuffle, and record which ones.
 */
import { seededPermutation } from './prng.js';

export interface FlippablePair {
  id: string;
  chosen: string;
  rejected: string;
}

export interface LabelNoiseOptions {
  /** Fraction of pairs to flip, in [0, 1]. */
  fraction: number;
  seed: number;
}

export interface LabelNoiseResult<P> {
  /** All pairs in their original order, flipped ones with chosen and rejected swapped. */
  pairs: (P & { labelFlipped: boolean })[];
  /** Indices of the flipped pairs, ascending. */
  flippedIndices: number[];
  flippedIds: string[];
}

export function injectLabelNoise<P extends FlippablePair>(
  pairs: readonly P[],
  options: LabelNoiseOptions,
): LabelNoiseResult<P> {
  const { fraction, seed } = options;
  if (!(fraction >= 0 && fraction <= 1)) throw new Error(`injectLabelNoise: fraction must be in [0, 1], got ${fraction}`);
  const flipCount = Math.round(fraction * pairs.length);
  const flippedIndices = seededPermutation(pairs.length, seed)
    .slice(0, flipCount)
    .sort((a, b) => a - b);
  const flipped = new Set(flippedIndices);
  return {
    pairs: pairs.map((pair, i) =>
      flipped.has(i)
        ? { ...pair, chosen: pair.rejected, rejected: pair.chosen, labelFlipped: true }
        : { ...pair, labelFlipped: false },
    ),
    flippedIndices,
    flippedIds: flippedIndices.map((i) => pairs[i]!.id),
  };
}
