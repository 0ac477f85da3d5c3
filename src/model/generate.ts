// Batched generation: prefill all prompts through the KV cache, then one
// token per step for every unfinished sequence. Sampling runs on the GPU;
// each step reads back one small buffer (ids and log-probs of the batch).
// Finished sequences leave the batch, so they stop costing work.
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';
import type { KvCacheDtype } from '../ops/decode-attention.js';
import { decodeSamples, sampleTokens, type SamplingParams } from '../ops/sample.js';
import { KvSession } from './kv-session.js';
import type { Qwen3 } from './qwen3.js';

export interface GenerateOptions {
  maxNewTokens: number;
  /** Generation of a sequence ends after it emits one of these ids (the stop token is kept in the output). */
  stopIds: readonly number[];
  sampling: SamplingParams;
  /**
   * Random-stream id of each sequence (default: its index). Sequences with the
   * same stream id, seed and prompt sample the same tokens, so a caller that
   * splits a batch into several calls keeps results independent of the split.
   */
  streamIds?: readonly number[];
  /** Streaming: called for every new token, in order per sequence. */
  onToken?: (sequence: number, id: number) => void;
  /** The KV cache at its own size rather than the pool's size class (KvSession's `exact`); the caller trims the pool after. */
  exactKvCache?: boolean;
  /** Precision of the KV cache (KvSession's `cacheDtype`). Default 'f32'. */
  kvCacheDtype?: KvCacheDtype;
}

export interface Generation {
  /** Generated ids, including the stop token when finish is 'stop'. */
  tokens: Int32Array;
  /**
   * Log-prob of each generated token under the full softmax(logits / temperature): the behaviour
   * policy when top-k, top-p and min-p are off (as in GRPO's defaults), not the truncated
   * distribution that drew the token otherwise.
   */
  logprobs: Float32Array;
  finish: 'stop' | 'length';
}

export async function generate(model: Qwen3, prompts: readonly Int32Array[], opts: GenerateOptions): Promise<Generation[]> {
  const { rt, cfg } = model;
  const B = prompts.length;
  if (B === 0) return [];
  if (!(opts.maxNewTokens >= 1)) throw new Error(`max new tokens must be at least 1 (got ${opts.maxNewTokens})`);
  prompts.forEach((p, i) => {
    if (p.length === 0) throw new Error(`prompt ${i} is empty`);
    if (p.length >= cfg.maxPositionEmbeddings) {
      throw new Error(`prompt ${i} has ${p.length} tokens; the model's context holds ${cfg.maxPositionEmbeddings} (prompt plus at least one new token)`);
    }
  });
  if (opts.streamIds && opts.streamIds.length !== B) throw new Error(`${opts.streamIds.length} stream ids for ${B} prompts`);
  const badStream = opts.streamIds?.findIndex((id) => !Number.isInteger(id) || id < 0 || id > 0xffffffff) ?? -1;
  if (badStream >= 0) throw new Error(`stream id ${opts.streamIds![badStream]} of prompt ${badStream} is not an integer in [0, 2^32)`);
  const seedsAll = Uint32Array.from({ length: B }, (_, i) => opts.streamIds?.[i] ?? i);
  const longest = Math.max(...prompts.map((p) => p.length));
  const maxLen = Math.min(cfg.maxPositionEmbeddings, longest + opts.maxNewTokens);
  const V = cfg.vocabSize;
  const stop = new Set(opts.stopIds);
  const out = prompts.map(() => ({ tokens: [] as number[], logprobs: [] as number[], finish: 'length' as Generation['finish'] }));
  // Allocated once every input is checked, and freed in the finally below whatever throws.
  const session = new KvSession(model, B, maxLen, { exact: opts.exactKvCache ?? false, cacheDtype: opts.kvCacheDtype ?? 'f32' });
  const samples = rt.empty([B, 2], 'u32', 'samples');

  // The sampler writes rows rowStart.. of `samples`; rowSeeds are the sequences' stream ids.
  const sampleInto = (active: number[], step: number) => {
    const seeds = rt.upload(Uint32Array.from(active, (s) => seedsAll[s]!), [active.length], 'row-seeds');
    return {
      consumer: (logits: Tensor, rowStart: number, rows: number) => {
        if (rowStart === 0) {
          sampleTokens(rt, logits, seeds, samples, rows, V, step, opts.sampling);
          return;
        }
        // Later chunks (only when [rows, V] logits exceed one binding): sample into a
        // scratch and copy the rows into place.
        const seedChunk = sliceRows(rt, seeds, rowStart, rows);
        const chunkOut = rt.empty([rows, 2], 'u32', 'samples-chunk');
        sampleTokens(rt, logits, seedChunk, chunkOut, rows, V, step, opts.sampling);
        rt.copy(chunkOut, samples, rows * 2, 0, rowStart * 2);
        seedChunk.dispose();
        chunkOut.dispose();
      },
      dispose: () => seeds.dispose(),
    };
  };

  try {
    let active = prompts.map((_, i) => i);
    const s0 = sampleInto(active, 0);
    try {
      session.prefill(prompts, s0.consumer);
    } finally {
      s0.dispose();
    }
    // The prefill's activations (one layer of every prompt token of a pass) went back to the pool;
    // the decode steps' are of other sizes, so they would allocate beside them. Freed here, the
    // two working sets never hold memory at once (the memory plan counts the larger).
    rt.trimPool();
    for (let step = 0; active.length > 0; step++) {
      const { ids, logprobs } = decodeSamples(await rt.readBytes(samples), active.length);
      const next: number[] = [];
      active.forEach((seq, i) => {
        if (Number.isNaN(logprobs[i])) {
          // The sampler's signal for NaN logits (kernels/sample_tokens.wgsl): a diverged model.
          throw new Error(`the logits of sequence ${seq} at generated token ${step} contain NaN (the model's weights or activations are not finite); nothing was sampled from them`);
        }
        const id = ids[i]!;
        const o = out[seq]!;
        o.tokens.push(id);
        o.logprobs.push(logprobs[i]!);
        opts.onToken?.(seq, id);
        const position = prompts[seq]!.length + o.tokens.length - 1; // where this token goes in the cache
        if (stop.has(id)) o.finish = 'stop';
        else if (o.tokens.length < opts.maxNewTokens && position < maxLen) next.push(seq);
      });
      active = next;
      if (active.length === 0) break;
      const stepIds = Int32Array.from(active, (s) => out[s]!.tokens[out[s]!.tokens.length - 1]!);
      const slots = Int32Array.from(active);
      const positions = Int32Array.from(active, (s) => prompts[s]!.length + out[s]!.tokens.length - 1);
      const sampler = sampleInto(active, step + 1);
      try {
        session.step(stepIds, slots, positions, sampler.consumer);
      } finally {
        sampler.dispose();
      }
    }
  } finally {
    samples.dispose();
    session.dispose();
    // The cache and the decode steps' buffers (of each size the shrinking batch took) go back to
    // the device: a later call, of other sizes, would otherwise allocate beside them.
    rt.trimPool();
  }
  return out.map((o) => ({ tokens: Int32Array.from(o.tokens), logprobs: Float32Array.from(o.logprobs), finish: o.finish }));
}

/** A separate tensor holding elements [start, start+count) of t (copied), for chunked sampling. */
function sliceRows(rt: Runtime, t: Tensor, start: number, count: number): Tensor {
  const s = rt.empty([count], t.dtype);
  rt.copy(t, s, count, start, 0);
  return s;
}
