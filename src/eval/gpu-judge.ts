// The GPU judge for evaluation: a model folder (weights + tokenizer) that
// writes k judgments per rendered prompt with the KV-cache sampler.
import type { Runtime } from '../gpu/runtime.js';
import { generate } from '../model/generate.js';
import { Qwen3 } from '../model/qwen3.js';
import { loadHfWeights } from '../model/weights.js';
import type { Tokenizer } from '../tokenizer/index.js';
import type { JudgeFn } from './judge.js';
import type { DecodingOptions } from './results.js';

/** Sequences decoded together; bounded so the KV cache and logits stay small. */
const GENERATION_BATCH = 64;

export function judgeWithModel(model: Qwen3, tokenizer: Tokenizer, decoding: DecodingOptions): JudgeFn {
  return async (prompts, { k, seed }) => {
    const encoded = await Promise.all(prompts.map((p) => tokenizer.encode(p)));
    const jobs = encoded.flatMap((ids, i) => Array.from({ length: k }, (_, draw) => ({ ids, i, draw })));
    const texts = prompts.map(() => new Array<string>(k));
    for (let s = 0; s < jobs.length; s += GENERATION_BATCH) {
      const part = jobs.slice(s, s + GENERATION_BATCH);
      const gens = await generate(model, part.map((j) => j.ids), {
        maxNewTokens: decoding.maxNewTokens,
        stopIds: tokenizer.stopIds,
        sampling: { temperature: decoding.temperature, topP: decoding.topP, topK: 0, minP: 0, seed: (seed ^ decoding.seed) >>> 0 },
        streamIds: part.map((_, j) => s + j),
      });
      gens.forEach((g, j) => { texts[part[j]!.i]![part[j]!.draw] = tokenizer.decode(g.tokens); });
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
