/**
 * Pair-preserving sampler. PAR compares each side with the other side's mean, so the two rows of
 * a pair must land in the same batch: the sampler shuffles pairs (never rows) with a seeded
 * permutation per epoch, and hands out batches of batchRows / 2 pairs. Every pair appears exactly
 * once per epoch; the last batch of an epoch is smaller when the pairs do not divide evenly, and
 * batches never straddle epochs.
 *
 * The state (seed, epoch, position) is enough to resume: the order of an epoch is recomputed
 * from (seed, epoch), so no permutation needs saving.
 */
import { deriveSeed, seededPermutation } from './prng.js';

export interface PairSamplerOptions {
  /** Rows per batch (two per pair); must be even and at least 2. */
  batchRows: number;
  seed: number;
}

export interface PairSamplerState {
  seed: number;
  epoch: number;
  /** Pairs of this epoch already handed out. */
  position: number;
  /** Pair count the state was taken with, checked on resume. */
  pairCount: number;
}

export interface PairBatch<P> {
  epoch: number;
  /** Indices into the sampler's pair array, in batch order. */
  pairIndices: number[];
  pairs: P[];
}

export class PairSampler<P> {
  readonly pairsPerBatch: number;
  private readonly pairs: readonly P[];
  private readonly seed: number;
  private epoch = 0;
  private position = 0;
  private order: number[];

  constructor(pairs: readonly P[], options: PairSamplerOptions, resumeFrom?: PairSamplerState) {
    const { batchRows, seed } = options;
    if (!Number.isInteger(batchRows) || batchRows < 2 || batchRows % 2 !== 0) {
      throw new Error(`PairSampler: batchRows must be an even integer >= 2 (each pair is two rows), got ${batchRows}`);
    }
    if (pairs.length === 0) throw new Error('PairSampler: no pairs to sample');
    this.pairs = pairs;
    this.pairsPerBatch = batchRows / 2;
    this.seed = resumeFrom?.seed ?? seed;
    if (resumeFrom !== undefined) this.restore(resumeFrom);
    this.order = this.epochOrder(this.epoch);
  }

  /** The pair order of an epoch (a permutation of 0..pairCount-1). */
  epochOrder(epoch: number): number[] {
    return seededPermutation(this.pairs.length, deriveSeed(this.seed, epoch));
  }

  nextBatch(): PairBatch<P> {
    const epoch = this.epoch;
    const end = Math.min(this.position + this.pairsPerBatch, this.pairs.length);
    const pairIndices = this.order.slice(this.position, end);
    this.position = end;
    if (this.position === this.pairs.length) {
      this.epoch += 1;
      this.position = 0;
      this.order = this.epochOrder(this.epoch);
    }
    return { epoch, pairIndices, pairs: pairIndices.map((i) => this.pairs[i]!) };
  }

  /** Batches of the current epoch not yet handed out. */
  batchesLeftInEpoch(): number {
    return Math.ceil((this.pairs.length - this.position) / this.pairsPerBatch);
  }

  state(): PairSamplerState {
    return { seed: this.seed, epoch: this.epoch, position: this.position, pairCount: this.pairs.length };
  }

  private restore(state: PairSamplerState): void {
    if (state.pairCount !== this.pairs.length) {
      throw new Error(`PairSampler: state was saved with ${state.pairCount} pairs, but ${this.pairs.length} were given`);
    }
    if (!Number.isInteger(state.epoch) || state.epoch < 0) throw new Error(`PairSampler: bad epoch ${state.epoch} in state`);
    if (!Number.isInteger(state.position) || state.position < 0 || state.position >= this.pairs.length) {
      throw new Error(`PairSampler: position ${state.position} in state is outside [0, ${this.pairs.length})`);
    }
    this.epoch = state.epoch;
    this.position = state.position;
  }
}
