// How many judgments the GPU judge decodes together: as many as the memory a chunk allocates
// allows (plain arithmetic on the model's sizes, no GPU needed).
import type { Qwen3Config } from '../io/hf-model.js';
import { kvCacheBytesPerTensor } from '../model/kv-session.js';
import type { KvCacheDtype } from '../ops/decode-attention.js';

/** Most sequences decoded together; the binding limit and the KV budget usually bind first. */
export const GENERATION_BATCH = 256;

/** Default GPU memory for one chunk's KV cache (all layers, K and V); eval.js --kv-memory. */
export const DEFAULT_KV_BUDGET_BYTES = 4 * 1024 ** 3;

export interface GenerationChunkLimits {
  maxRows: number;
  maxNewTokens: number;
  /** The adapter's storage binding limit: one sequence's K cache of one layer must fit it (the KV session splits a layer's cache by sequences). */
  bindingBytes: number;
  /** GPU memory the chunk's whole KV cache may take: 2 x layers x [rows, positions, kv heads x head dim]. */
  kvBudgetBytes: number;
  /** Precision of the cache (default 'f32'): an f16 one takes half the bytes. */
  kvCacheDtype?: KvCacheDtype;
  /**
   * A job whose cache alone exceeds the budget becomes a chunk of its own instead of being refused
   * (train.js's evaluation during training, where a refusal hours into a run would help nobody).
   * Default false.
   */
  overBudgetAlone?: boolean;
}

/**
 * Sizes of the consecutive chunks the jobs (given by prompt length, in order) are decoded in: at
 * most `maxRows` each, and no more than fit the KV cache a chunk allocates for its longest prompt
 * plus the new tokens within the KV budget (all layers; the KV session splits a layer's cache into
 * parts of whole sequences that each fit a storage binding, so the binding bounds a sequence, not a chunk). A
 * 0.6B judge writing 4096 tokens needs 1.1 GiB of cache per sequence, so k = 8 votes of 8 prompts
 * in one batch would need 70 GiB; the chunks keep it to the budget. (The prefill is not a limit:
 * the KV session runs prompts too wide for one pass in several.) A job whose cache alone exceeds
 * the budget is refused here, with the sizes (with overBudgetAlone, decoded by itself); one whose one-layer cache alone exceeds a binding is a
 * chunk of its own, which the KV session refuses with the sizes. Results do not depend on the
 * split (each job keeps its stream id).
 */
export function generationChunks(promptLengths: readonly number[], cfg: Qwen3Config, o: GenerationChunkLimits): number[] {
  const kvDim = cfg.numKvHeads * cfg.headDim;
  const fits = (rows: number, longestPrompt: number) => {
    const positions = Math.min(cfg.maxPositionEmbeddings, longestPrompt + o.maxNewTokens);
    const layerCache = kvCacheBytesPerTensor(rows, positions, kvDim, o.kvCacheDtype);
    return rows <= o.maxRows && kvCacheBytesPerTensor(1, positions, kvDim, o.kvCacheDtype) <= o.bindingBytes && 2 * cfg.numLayers * layerCache <= o.kvBudgetBytes;
  };
  const sizes: number[] = [];
  let rows = 0, longest = 0;
  for (const length of promptLengths) {
    const positions = Math.min(cfg.maxPositionEmbeddings, length + o.maxNewTokens);
    const alone = 2 * cfg.numLayers * kvCacheBytesPerTensor(1, positions, kvDim, o.kvCacheDtype);
    if (alone > o.kvBudgetBytes && !o.overBudgetAlone) {
      throw new Error(
        `a judgment of a ${length}-token prompt and up to ${o.maxNewTokens} new tokens needs ${(alone / 2 ** 30).toFixed(2)} GiB of KV cache, ` +
          `more than the KV budget of ${(o.kvBudgetBytes / 2 ** 30).toFixed(2)} GiB: raise --kv-memory or lower --max-new-tokens`,
      );
    }
    if (rows > 0 && !fits(rows + 1, Math.max(longest, length))) {
      sizes.push(rows);
      rows = 0;
      longest = 0;
    }
    rows++;
    longest = Math.max(longest, length);
  }
  if (rows > 0) sizes.push(rows);
  return sizes;
}
