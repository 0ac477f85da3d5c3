// Token sampling on the GPU: one workgroup per sequence picks the next token
// from its logits row (greedy, or temperature / top-k / top-p / min-p with the
// Gumbel-max trick) and returns the id with its log-prob, so that only M small
// pairs come back to the CPU per step.
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';
import { checkRowLaunch } from './row-launch.js';

export interface SamplingParams {
  /** 0 = greedy (argmax, lowest index on ties). */
  temperature: number;
  /** Keep the k largest logits (and any tied with the k-th); 0 = off. */
  topK: number;
  /** Keep the smallest set of largest logits whose mass (within the top-k set) reaches topP; 1 = off. */
  topP: number;
  /** Keep tokens with p >= minP * p_max; 0 = off. */
  minP: number;
  /** Any safe integer; with the row seeds and the step it fixes every random number. */
  seed: number;
}

/** Counts in the threshold search are f32 sums of ones: exact below 2^24. */
const MAX_VOCAB = 1 << 24;
/** Keeps 1 / T finite in f32 for a tiny positive temperature. */
const MAX_INV_TEMPERATURE = 1e30;

function checkParams(p: SamplingParams): void {
  if (!(p.temperature >= 0) || !Number.isFinite(p.temperature)) throw new Error(`sampleTokens: temperature ${p.temperature} must be finite and >= 0`);
  if (!Number.isInteger(p.topK) || p.topK < 0) throw new Error(`sampleTokens: topK ${p.topK} must be an integer >= 0`);
  if (!(p.topP > 0 && p.topP <= 1)) throw new Error(`sampleTokens: topP ${p.topP} must be in (0, 1]`);
  if (!(p.minP >= 0 && p.minP <= 1)) throw new Error(`sampleTokens: minP ${p.minP} must be in [0, 1]`);
  if (!Number.isSafeInteger(p.seed)) throw new Error(`sampleTokens: seed ${p.seed} must be a safe integer`);
}

/**
 * Samples one token per row of logits [M, V] (the first M rows of the tensor).
 * out: a 4-byte tensor of [M, 2]: out[i*2] = token id (i32 bits), out[i*2+1] =
 * log-prob (f32 bits) of that token under softmax(logits / temperature) over the
 * FULL vocabulary (greedy: under softmax(logits)); read it with `rt.readBytes`
 * and `decodeSamples`. A row holding a NaN logit gets a NaN log-prob (and its
 * argmax without the NaNs): callers must treat it as an error, as generate() does.
 * Infinite logits count as the extreme finite values (see the kernel).
 * rowSeeds u32 [M]: a per-sequence stream id. The random numbers of token v in
 * row i are a pure function of (seed, rowSeeds[i], step, v), so the same seed
 * gives the same tokens on the same adapter whatever the batch composition.
 * Filter order and tie rules: see kernels/sample_tokens.wgsl.
 */
export function sampleTokens(rt: Runtime, logits: Tensor, rowSeeds: Tensor, out: Tensor, M: number, V: number, step: number, p: SamplingParams): void {
  sampleTokensWith(rt, logits, rowSeeds, out, M, V, step, p, samplerThreadsPerRow(rt));
}

/** The kernel's reductions keep 16 floats per thread in workgroup memory: 8 KiB at 128 threads. */
const MAX_THREADS_PER_ROW = 128;

/**
 * Threads of the workgroup that samples one row. On a CPU adapter every
 * workgroup barrier switches between all SIMD batches of the workgroup and the
 * threshold searches have dozens of barriers, so one batch of 8 is fastest on
 * lavapipe (1.2x faster than 128 at V = 151936, far more on small vocabularies);
 * GPUs want many loads in flight per row.
 */
export function samplerThreadsPerRow(rt: Runtime): number {
  return rt.gpu.isCpuAdapter ? 8 : MAX_THREADS_PER_ROW;
}

/** sampleTokens with an explicit power-of-two workgroup size (tests run both variants). */
export function sampleTokensWith(
  rt: Runtime, logits: Tensor, rowSeeds: Tensor, out: Tensor, M: number, V: number, step: number, p: SamplingParams, threadsPerRow: number,
): void {
  if (M === 0) return;
  checkRowLaunch(rt, 'sampleTokens', { threadsPerRow }, threadsPerRow, MAX_THREADS_PER_ROW, 1);
  checkParams(p);
  if (!Number.isInteger(V) || V < 1 || V >= MAX_VOCAB) throw new Error(`sampleTokens: vocabulary ${V} must be in [1, 2^24)`);
  if (logits.size < M * V) throw new Error(`sampleTokens: logits '${logits.label}' holds ${logits.size} values, needs ${M} x ${V}`);
  if (rowSeeds.size < M) throw new Error(`sampleTokens: rowSeeds holds ${rowSeeds.size} values, needs ${M}`);
  if (out.size < 2 * M) throw new Error(`sampleTokens: out holds ${out.size} values, needs ${2 * M}`);
  if (!Number.isInteger(step) || step < 0 || step > 0xffffffff) throw new Error(`sampleTokens: step ${step} must be a u32`);
  const greedy = p.temperature === 0;
  const grid = rt.grid(M);
  rt.dispatch(
    rt.kernel('sample_tokens', 'main', { WG: threadsPerRow }),
    { logits, rowSeeds, out },
    {
      V, M, rowStride: grid[0], step,
      seedLo: p.seed >>> 0,
      seedHi: Math.floor(p.seed / 2 ** 32) >>> 0,
      greedy: greedy ? 1 : 0,
      invT: greedy ? 1 : Math.min(1 / p.temperature, MAX_INV_TEMPERATURE),
      topK: p.topK,
      topP: p.topP,
      minP: p.minP,
    },
    grid,
  );
}

/** Splits the bytes of sampleTokens' out buffer into token ids and log-probs. */
export function decodeSamples(bytes: ArrayBuffer, M: number): { ids: Int32Array; logprobs: Float32Array } {
  if (bytes.byteLength < 8 * M) throw new Error(`decodeSamples: ${bytes.byteLength} bytes for ${M} rows`);
  const asInt = new Int32Array(bytes, 0, 2 * M);
  const asFloat = new Float32Array(bytes, 0, 2 * M);
  const ids = new Int32Array(M);
  const logprobs = new Float32Array(M);
  for (let i = 0; i < M; i++) {
    ids[i] = asInt[2 * i]!;
    logprobs[i] = asFloat[2 * i + 1]!;
  }
  return { ids, logprobs };
}
