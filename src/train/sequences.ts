// Packs (prompt, completion) token sequences into a right-padded TokenBatch and
// the per-position vectors the losses need. Position t predicts token t+1, so a
// completion token at index i of a row is the target of position i-1.
import type { TokenBatch } from '../model/qwen3.js';

export interface PromptCompletion {
  prompt: Int32Array;
  completion: Int32Array;
}

export interface PackedBatch {
  batch: TokenBatch;
  /** [B*T] 1 where position t's target (token t+1) is a completion token. */
  mask: Float32Array;
  /** Number of target tokens (sum of mask). */
  count: number;
}

export function packSequences(rows: readonly PromptCompletion[], padId: number, maxLen = Infinity): PackedBatch {
  if (rows.length === 0) throw new Error('packSequences: no rows');
  const lengths = rows.map((r) => r.prompt.length + r.completion.length);
  rows.forEach((r, i) => {
    if (r.prompt.length === 0) throw new Error(`row ${i}: empty prompt`);
    if (lengths[i]! > maxLen) throw new Error(`row ${i}: ${lengths[i]} tokens exceed the maximum sequence length ${maxLen}`);
  });
  const T = Math.max(...lengths);
  const B = rows.length;
  const ids = new Int32Array(B * T).fill(padId);
  const mask = new Float32Array(B * T);
  let count = 0;
  rows.forEach((r, b) => {
    ids.set(r.prompt, b * T);
    ids.set(r.completion, b * T + r.prompt.length);
    for (let i = 0; i < r.completion.length; i++) {
      mask[b * T + r.prompt.length + i - 1] = 1;
      count++;
    }
  });
  return { batch: { B, T, ids }, mask, count };
}

/** Spreads one value per completion token (e.g. sampler log-probs) onto the target positions of a packed batch. */
export function perTargetValues(rows: readonly PromptCompletion[], T: number, values: readonly ArrayLike<number>[]): Float32Array {
  const out = new Float32Array(rows.length * T);
  rows.forEach((r, b) => {
    const v = values[b]!;
    if (v.length !== r.completion.length) throw new Error(`row ${b}: ${v.length} values for ${r.completion.length} completion tokens`);
    for (let i = 0; i < v.length; i++) out[b * T + r.prompt.length + i - 1] = v[i]!;
  });
  return out;
}

/** One value per row repeated over its T positions (e.g. a sequence's advantage). */
export function perRowValues(values: ArrayLike<number>, T: number): Float32Array {
  const out = new Float32Array(values.length * T);
  for (let b = 0; b < values.length; b++) out.fill(values[b]!, b * T, (b + 1) * T);
  return out;
}

/** Splits [0, n) into consecutive chunks of at most `size`. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  if (!(size >= 1)) throw new Error(`chunk size must be at least 1 (got ${size})`);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
