/**
 * Label-noise injection for robustness experiments: swap chosen and rejected in exactly
 * round(fraction * n) pairs, picked by a seeded shuffle, and record which ones. Everything a pair
 * holds per side (the teacher's judgment or score of each response) swaps with its response.
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

/**
 * The fields that belong to one side of a pair: PreferencePair's responses and teacher judgments,
 * and TeacherScored's scores. Left unswapped they would describe the other response.
 */
const SIDE_FIELDS = [
  ['chosen', 'rejected'],
  ['chosenJudgment', 'rejectedJudgment'],
  ['chosenScore', 'rejectedScore'],
] as const;

/** The pair with its sides swapped; a field only one side has moves to the other side's name. */
function flipSides<P extends FlippablePair>(pair: P): P {
  const flipped = { ...pair } as Record<string, unknown>;
  for (const [c, r] of SIDE_FIELDS) {
    const [hasC, hasR] = [Object.hasOwn(pair, c), Object.hasOwn(pair, r)];
    const [cValue, rValue] = [flipped[c], flipped[r]];
    // Assigned in place when both are there, so that the keys keep their order.
    if (hasC) flipped[r] = cValue;
    else delete flipped[r];
    if (hasR) flipped[c] = rValue;
    else delete flipped[c];
  }
  return flipped as P;
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
        ? { ...flipSides(pair), labelFlipped: true }
        : { ...pair, labelFlipped: false },
    ),
    flippedIndices,
    flippedIds: flippedIndices.map((i) => pairs[i]!.id),
  };
}
