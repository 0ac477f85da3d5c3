// The GPU judge for evaluation: a model folder (weights + tokenizer) that
// writes k judgments per rendered prompt with the KV-cache sampler.
import type { Runtime } from '../gpu/runtime.js';
import { generate } from '../model/generate.js';
import { kvCacheBytesPerTensor } from '../model/kv-session.js';
import { Qwen3 } from '../model/qwen3.js';
import { loadHfWeights } from '../model/weights.js';
import type { Tokenizer } from '../tokenizer/index.js';
import type { JudgeFn } from './judge.js';
import type { DecodingOptions } from './results.js';

/** Most sequences decoded together; bounded so the KV cache and logits stay small. */
const GENERATION_BATCH = 64;

export interface GenerationChunkLimits {
  maxRows: number;
  maxNewTokens: number;
  /** The model's context (max_position_embeddings): a KV cache is never longer. */
  context: number;
  /** K (or V) floats per position of one layer: num_key_value_heads x head_dim. */
  kvDim: number;
  /** The adapter's storage binding limit, which one layer's K cache must fit. */
  bindingBytes: number;
}

/**
 * Sizes of the consecutive chunks the jobs (given by prompt length, in order) are decoded in:
 * at most `maxRows` each, and no more than one layer's KV cache [rows, longest prompt + new
 * tokens] fits in one storage binding. A big judge with long prompts and k votes (8B, 4096 new
 * tokens: 20 MiB per sequence per layer) is then decoded a few sequences at a time instead of
 * failing; a job that does not fit even alone is a chunk of its own, which the KV session
 * refuses with the sizes. Results do not depend on the split (each job keeps its stream id).
 */
export function generationChunks(promptLengths: readonly number[], o: GenerationChunkLimits): number[] {
  const sizes: number[] = [];
  let rows = 0, longest = 0;
  for (const length of promptLengths) {
    const longestWith = Math.max(longest, length);
    const positions = Math.min(o.context, longestWith + o.maxNewTokens);
    const fits = rows < o.maxRows && kvCacheBytesPerTensor(rows + 1, positions, o.kvDim) <= o.bindingBytes;
    if (rows > 0 && !fits) {
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

/**
 * A judge decoding with `model`. `chunking` lowers the batch bound or the binding limit the
 * chunks are sized for (tests use it to force small chunks; results stay the same).
 */
export function judgeWithModel(
  model: Qwen3, tokenizer: Tokenizer, decoding: DecodingOptions, chunking: { maxRows?: number; bindingBytes?: number } = {},
): JudgeFn {
  return async (prompts, { k, seed }) => {
    const encoded = await Promise.all(prompts.map((p) => tokenizer.encode(p)));
    const jobs = encoded.flatMap((ids, i) => Array.from({ length: k }, (_, draw) => ({ ids, i, draw })));
    const texts = prompts.map(() => new Array<string>(k));
    const { cfg } = model;
    const chunks = generationChunks(jobs.map((j) => j.ids.length), {
      maxRows: chunking.maxRows ?? GENERATION_BATCH, maxNewTokens: decoding.maxNewTokens, context: cfg.maxPositionEmbeddings,
      kvDim: cfg.numKvHeads * cfg.headDim, bindingBytes: Math.min(chunking.bindingBytes ?? Infinity, model.rt.gpu.maxStorageBindingBytes),
    });
    let s = 0;
    for (const size of chunks) {
      const part = jobs.slice(s, s + size);
      const gens = await generate(model, part.map((j) => j.ids), {
        maxNewTokens: decoding.maxNewTokens,
        stopIds: tokenizer.stopIds,
        sampling: { temperature: decoding.temperature, topP: decoding.topP, topK: 0, minP: 0, seed: (seed ^ decoding.seed) >>> 0 },
        streamIds: part.map((_, j) => s + j),
      });
      gens.forEach((g, j) => { texts[part[j]!.i]![part[j]!.draw] = tokenizer.decode(g.tokens); });
      s += size;
    }
    return texts;
  };
}

export async function loadJudge(rt: Runtime, modelDir: string, decoding: DecodingOptions): Promise<JudgeFn> {
  const { loadTokenizer } = await import('../tokenizer/index.js');
  const tokenizer = await loadTokenizer(modelDir);
  const { config, params } = await loadHfWeights(rt, modelDir);
  if (tokenizer.vocabSize > config.vocabSize) throw new Error(`${modelDir}: tokenizer has ${tokenizer.vocabSize} tokens, the model ${config.vocabSize}`);
  return judgeWithModel(new Qwen3(rt, config, params), tokenizer, decoding);
}
