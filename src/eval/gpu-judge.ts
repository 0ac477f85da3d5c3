// The GPU judge for evaluation: a model folder (weights + tokenizer) that
// writes k judgments per rendered prompt with the KV-cache sampler.
import type { Runtime } from '../gpu/runtime.js';
import { generate } from '../model/generate.js';
import { readQwen3Config } from '../io/hf-model.js';
import { loadInferenceModel } from '../model/bf16-matrices.js';
import type { Qwen3 } from '../model/qwen3.js';
import type { Tokenizer } from '../tokenizer/index.js';
import { DEFAULT_KV_BUDGET_BYTES, GENERATION_BATCH, generationChunks, type GenerationChunkLimits } from './generation-chunks.js';
import type { JudgeFn } from './judge.js';
import type { DecodingOptions } from './results.js';

/**
 * A judge decoding with `model`. `chunking` sets the KV budget (default DEFAULT_KV_BUDGET_BYTES),
 * or lowers the row bound or the KV budget the chunks are sized for (tests force small chunks
 * with them; results stay the same).
 */
export function judgeWithModel(
  model: Qwen3, tokenizer: Tokenizer, decoding: DecodingOptions, chunking: Partial<Omit<GenerationChunkLimits, 'maxNewTokens'>> = {},
): JudgeFn {
  return async (prompts, { k, seed, items }) => {
    const encoded = await Promise.all(prompts.map((p) => tokenizer.encode(p)));
    const jobs = encoded.flatMap((ids, i) => Array.from({ length: k }, (_, draw) => ({ ids, i, draw, stream: (items?.[i] ?? i) * k + draw })));
    const texts = prompts.map(() => new Array<string>(k));
    const chunks = generationChunks(jobs.map((j) => j.ids.length), model.cfg, {
      maxRows: chunking.maxRows ?? GENERATION_BATCH,
      maxNewTokens: decoding.maxNewTokens,
      // What a cache part may take (KvSession: a binding, and a buffer).
      bindingBytes: Math.min(chunking.bindingBytes ?? Infinity, model.rt.gpu.maxStorageBindingBytes, model.rt.gpu.maxBufferBytes),
      kvBudgetBytes: chunking.kvBudgetBytes ?? DEFAULT_KV_BUDGET_BYTES,
      kvCacheDtype: decoding.kvCacheDtype,
      overBudgetAlone: chunking.overBudgetAlone ?? false,
    });
    let s = 0;
    for (const size of chunks) {
      const part = jobs.slice(s, s + size);
      const gens = await generate(model, part.map((j) => j.ids), {
        maxNewTokens: decoding.maxNewTokens,
        stopIds: tokenizer.stopIds,
        sampling: { temperature: decoding.temperature, topP: decoding.topP, topK: 0, minP: 0, seed: (seed ^ decoding.seed) >>> 0 },
        streamIds: part.map((job) => job.stream),
        // --kv-memory bounds the cache itself: a pooled one could take up to twice the budget.
        exactKvCache: true,
        kvCacheDtype: decoding.kvCacheDtype,
      });
      // A sampled padding id (past the tokenizer's ids) leaves U+FFFD in the judgment, not a crash.
      gens.forEach((g, j) => { texts[part[j]!.i]![part[j]!.draw] = tokenizer.decode(g.tokens, { outOfVocabulary: 'replace' }); });
      // generate() gave the chunk's KV cache back to the device, so --kv-memory bounds the memory
      // held, not only each chunk.
      s += size;
    }
    return texts;
  };
}

export async function loadJudge(rt: Runtime, modelDir: string, decoding: DecodingOptions, chunking: { kvBudgetBytes?: number } = {}): Promise<JudgeFn> {
  const { loadTokenizer } = await import('../tokenizer/index.js');
  const tokenizer = await loadTokenizer(modelDir);
  const config = await readQwen3Config(modelDir);
  if (tokenizer.vocabSize > config.vocabSize) throw new Error(`${modelDir}: tokenizer has ${tokenizer.vocabSize} tokens, the model ${config.vocabSize}`);
  const model = await loadInferenceModel(rt, modelDir, decoding.weightsDtype ?? 'f32');
  return judgeWithModel(model, tokenizer, decoding, chunking);
}
