// How GRPO's per-token losses make one number (verl's loss_agg_mode). token-mean, the default,
// weighs every response token of the batch alike, so long judgments count for more; the
// seq-mean modes weigh every judgment alike.
export type LossAggregation = 'token-mean' | 'seq-mean-token-mean' | 'seq-mean-token-sum';

export const LOSS_AGGREGATIONS: readonly LossAggregation[] = ['token-mean', 'seq-mean-token-mean', 'seq-mean-token-sum'];

/**
 * Each token's weight in a packed micro-batch ([B*T], row b at [b*T, (b+1)*T)) and the
 * normaliser shared by the whole batch, so that micro-batching leaves the loss unchanged:
 *   token-mean           sum_tokens loss / batch tokens
 *   seq-mean-token-mean  mean over sequences of (mean over the sequence's tokens)
 *   seq-mean-token-sum   mean over sequences of (sum over the sequence's tokens)
 * `mask` is 1 on response tokens; `batch` counts the whole batch's response tokens and sequences.
 */
export function lossWeights(
  mask: Float32Array, B: number, T: number, aggregation: LossAggregation, batch: { tokens: number; sequences: number },
): { weights: Float32Array; invCount: number } {
  if (mask.length !== B * T) throw new Error(`lossWeights: mask has ${mask.length} values, expected B*T = ${B * T}`);
  if (aggregation === 'token-mean') return { weights: mask, invCount: 1 / batch.tokens };
  if (aggregation === 'seq-mean-token-sum') return { weights: mask, invCount: 1 / batch.sequences };
  const weights = new Float32Array(B * T);
  for (let b = 0; b < B; b++) {
    let length = 0;
    for (let t = 0; t < T; t++) length += mask[b * T + t]!;
    // a sequence with no response token adds nothing (and is still one of batch.sequences, as in verl)
    if (length > 0) for (let t = 0; t < T; t++) weights[b * T + t] = mask[b * T + t]! / length;
  }
  return { weights, invCount: 1 / batch.sequences };
}
