// GPU memory plan of a training run, computed before any GPU work from the
// model's sizes and the batch shape. WebGPU does not expose how much memory a
// device has, so the total comes from the user (--gpu-memory 24GB).
//
// Phases: persistent state (weights, gradients, AdamW moments, reference
// model) lives all run; the generation phase (KV cache) and the training phase
// (activations of one micro-batch) do not overlap: the GRPO step frees the
// pool's buffers between them (Runtime.trimPool). So does evaluation during
// training (eval.every), whose judgments decode between steps. Peak =
// persistent + the largest of the phases.
import { gradNormPartials } from '../ops/adamw.js';
import { dwPartialBlocks } from '../ops/rmsnorm.js';
import { rowsPerPartFor } from '../gpu/row-split.js';
import { qwen3WeightShapes, type Qwen3Config } from '../io/hf-model.js';
import { pooledSize } from '../gpu/buffer-pool.js';
import { lmHeadChunkTokens } from '../ops/lm-head.js';
import { BF16_LAYER_MATRIX } from '../model/bf16-matrices.js';
import { tokensPerBinding, widestActivationFloats } from '../model/qwen3.js';
import { kvCacheBytesPerTensor, kvCacheParts } from '../model/kv-session.js';
import { kvCacheValueBytes, type KvCacheDtype } from '../ops/decode-attention.js';
import type { Stage, TrainConfig } from './config.js';

export type MemoryPhase = 'persistent' | 'generation' | 'training' | 'evaluation';

export interface MemoryItem {
  name: string;
  phase: MemoryPhase;
  bytes: number;
  /** How the number was computed, e.g. "596049920 params x 4 B". */
  detail: string;
}

export interface MemoryPlanTrain {
  /** Stages that share this shape; 'grpo' adds the reference model and the KV cache. */
  stages: readonly Stage[];
  /** Sequences per forward/backward. */
  microBatchRows: number;
  /** Tokens per trained sequence (SFT: maxSeqLen; GRPO: maxPromptLen + maxNewTokens), also the KV cache length. */
  seqLen: number;
  /** Rollouts per row (GRPO group size); 1 for SFT. */
  rollouts: number;
  /** Rows per optimizer step (GRPO: 2 * batchPairs). */
  batchRows: number;
  /** GRPO generation length; must leave room for a prompt inside seqLen. */
  maxNewTokens: number;
  /**
   * The frozen reference model for the KL term: an f32 copy of the policy (trainer.ts), or one with
   * its layer matrices in bf16 (grpo.referenceDtype, model/bf16-matrices.ts); 'none' when klCoef is 0.
   */
  refModel: 'f32' | 'bf16' | 'none';
  /** Precision of generation's KV cache (grpo.kvCacheDtype). Default 'f32'. */
  kvCacheDtype?: KvCacheDtype;
  /** Sequences generated at once; default batchRows * rollouts (a step samples all its rollouts before the update). */
  generationRows?: number;
  /** GRPO optimizer steps per batch (grpo.updatesPerBatch); above 1 each micro-batch's loss inputs are kept. Default 1. */
  updatesPerBatch?: number;
  /** Activation recomputation (model.gradientCheckpointing): forward keeps only the layers' inputs. Default false. */
  recompute?: boolean;
  /** Evaluation during training (eval.every), when on: what its greedy judging decodes at most. */
  evaluation?: EvaluationShape;
}

/**
 * The greedy judging of held-out pairs between steps (eval/held-out.ts heldOutEvaluator), as its
 * chunking sizes it (eval/generation-chunks.ts). The plan takes the worst prompt lengths up to
 * longestPrompt, a chunk's mixed ones included.
 */
export interface EvaluationShape {
  /** Judgments in all (2 per pair); Infinity when eval.limit is not set and the data is not at hand. */
  judgments: number;
  maxNewTokens: number;
  /** Most judgments decoded together (the chunks' row bound). */
  maxRows: number;
  /** KV cache a chunk may take (all layers); a judgment whose cache alone needs more decodes by itself. */
  kvBudgetBytes: number;
  /** Tokens of the longest judge prompt; when left out, any length the context allows. */
  longestPrompt?: number;
  /** Where longestPrompt comes from, for the plan's detail (e.g. "the held-out data"). */
  longestPromptSource?: string;
}

export interface AdapterMemory {
  maxBufferBytes: number;
  maxStorageBindingBytes: number;
  /** Device memory, from --gpu-memory; unknown to WebGPU itself. */
  totalBytes?: number;
}

export interface MemoryPlan {
  params: number;
  items: MemoryItem[];
  persistentBytes: number;
  generationBytes: number;
  trainingBytes: number;
  /** Evaluation during training at its largest over prompt lengths (0 when off). */
  evaluationBytes: number;
  /** Where evaluationBytes is reached: that many judgments of prompts of that length decoded together. */
  evaluationAt?: { promptLen: number; judgments: number };
  /** persistent + max(generation, training, evaluation). */
  totalBytes: number;
  deviceBytes?: number;
  /** The largest tensor that must sit in one storage binding (weights are split by rows, so they are not candidates). */
  largestTensor: { name: string; bytes: number };
  fits: boolean;
  /** Why it does not fit; empty when it fits. */
  reasons: string[];
  /** Caveats that do not decide `fits` (e.g. unknown device memory). */
  notes: string[];
}

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

const UNITS: Readonly<Record<string, number>> = {
  b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: KiB, mib: MiB, gib: GiB, tib: 1024 * GiB, k: KiB, m: MiB, g: GiB, t: 1024 * GiB,
};

/** '24GB' (10^9), '80GiB' (2^30), '512MiB', '1.5G' (binary, like nvidia-smi), or plain bytes. */
export function parseBytes(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = match ? UNITS[match[2]!.toLowerCase() || 'b'] : undefined;
  if (!match || unit === undefined) {
    throw new RangeError(`invalid byte size '${text}': expected a number with a unit such as 24GB, 80GiB or 512MiB`);
  }
  return Math.round(Number(match[1]) * unit);
}

export function formatBytes(bytes: number): string {
  if (bytes >= GiB) return `${(bytes / GiB).toFixed(2)} GiB`;
  if (bytes >= MiB) return `${(bytes / MiB).toFixed(1)} MiB`;
  if (bytes >= KiB) return `${(bytes / KiB).toFixed(1)} KiB`;
  return `${bytes} B`;
}

export function paramCount(cfg: Qwen3Config): number {
  let n = 0;
  for (const shape of qwen3WeightShapes(cfg).values()) n += shape.reduce((a, b) => a * b, 1);
  return n;
}

/** Floats per token of each tensor the forward keeps for backward in one layer (LayerActs in model/qwen3.ts). */
export function layerActivationFloats(cfg: Qwen3Config): number[] {
  const { hiddenSize: H, numHeads: Hq, numKvHeads: Hkv, headDim: D, intermediateSize: I } = cfg;
  return [
    H, 1, H, // xIn, rstd1, h1
    Hq * D, Hkv * D, Hq, Hkv, Hq * D, Hkv * D, Hkv * D, Hq * D, Hq, // qPre, kPre, rstdQ, rstdK, qRot, kRot, v, attn, lse
    H, 1, H, // xMid, rstd2, h2
    I, I, I, // gate, up, act
  ];
}

/**
 * Bytes the buffer pool really takes for a tensor: it rounds up to a size
 * class (a power of two up to 64 MiB, e.g. [2048, 3072] f32 = 24 MiB takes
 * 32 MiB), as BufferPool.acquire does. A tensor too large for one buffer counts its own size
 * (the plan reports it; the pool would refuse it).
 */
export function allocatedBytes(bytes: number, maxBufferBytes: number): number {
  return pooledSize(Math.max(4, bytes), maxBufferBytes) ?? Math.ceil(bytes / 256) * 256;
}

/**
 * The most distinct prompts one generation call holds: grpo.ts generates a step's rows x n
 * rollouts (row by row, a row's n together) `perCall` at a time, from rollout 0.
 */
export function mostPromptsPerCall(rows: number, n: number, perCall: number): number {
  const total = rows * n;
  let most = 0;
  for (let start = 0; start < total; start += perCall) {
    const last = Math.min(start + perCall, total) - 1;
    most = Math.max(most, Math.floor(last / n) - Math.floor(start / n) + 1);
  }
  return most;
}

/** Elements of each row-split part (each within one binding) of every weight of `cfg`, as RowSplitTensor cuts them. */
export function parameterPartSizes(cfg: Qwen3Config, width: number, adapter: AdapterMemory): number[] {
  return parameterParts(cfg, width, adapter).map((p) => p.size);
}

/** Each row-split part of every weight of `cfg` with its weight's name, in elements. */
function parameterParts(cfg: Qwen3Config, width: number, adapter: AdapterMemory): { name: string; size: number }[] {
  const parts: { name: string; size: number }[] = [];
  for (const [name, shape] of qwen3WeightShapes(cfg)) {
    const [rows, cols] = shape.length === 1 ? [1, shape[0]!] : [shape[0]!, shape[1]!];
    // A row past the limit is reported by the plan's checks, not thrown here.
    const rowsPerPart = cols * width > adapter.maxStorageBindingBytes ? 1 : rowsPerPartFor(cols, adapter.maxStorageBindingBytes, width);
    for (let r = 0; r < rows; r += rowsPerPart) parts.push({ name, size: Math.min(rowsPerPart, rows - r) * cols });
  }
  return parts;
}

/**
 * The bf16 reference model as allocated: its layer matrices two values to a u32 in the row blocks of
 * their f32 form, the other weights f32; and the f32 scratch its layer matrices are widened into,
 * one of each matrix of a layer.
 */
export function bf16ReferenceBytes(cfg: Qwen3Config, adapter: AdapterMemory): { stored: number; widened: number } {
  let stored = 0, widened = 0;
  for (const { name, size } of parameterParts(cfg, 4, adapter)) {
    const bf16 = BF16_LAYER_MATRIX.test(name);
    stored += exactBytes(bf16 ? Math.ceil(size / 2) * 4 : size * 4);
    if (bf16 && name.startsWith('model.layers.0.')) widened += exactBytes(size * 4);
  }
  return { stored, widened };
}

/** Bytes of a tensor that lives as long as the run: a buffer of its own size (BufferPool.acquireExact). */
export function exactBytes(bytes: number): number {
  return Math.max(4, Math.ceil(bytes / 4) * 4);
}

/** All weights of `cfg` stored as row-split parts of `width`-byte elements, as allocated (each part its own size). */
export function parameterBytes(cfg: Qwen3Config, width: number, adapter: AdapterMemory): number {
  return parameterPartSizes(cfg, width, adapter).reduce((total, n) => total + exactBytes(n * width), 0);
}

function checkTrainShape(t: MemoryPlanTrain): void {
  for (const key of ['microBatchRows', 'seqLen', 'rollouts', 'batchRows'] as const) {
    if (!Number.isInteger(t[key]) || t[key] < 1) throw new RangeError(`planMemory: train.${key} must be an integer >= 1, got ${t[key]}`);
  }
  if (t.stages.includes('grpo') && !(t.maxNewTokens >= 1 && t.maxNewTokens < t.seqLen)) {
    throw new RangeError(`planMemory: train.maxNewTokens (${t.maxNewTokens}) must be >= 1 and leave room for a prompt in seqLen (${t.seqLen})`);
  }
}

const sci = (n: number): string => n.toExponential(2).replace('e+', 'e');
const sumPhase = (items: readonly MemoryItem[], phase: MemoryPhase): number =>
  items.filter((i) => i.phase === phase).reduce((a, i) => a + i.bytes, 0);

/**
 * The memory of one training shape. Every item is counted as the buffer pool
 * allocates it (size classes for activations, buffers of their own size for
 * weights, gradients and moments, row-split weights), so the sums are what the
 * device must hold, not just the raw tensor sizes.
 */
export function planMemory(model: Qwen3Config, train: MemoryPlanTrain, adapter: AdapterMemory): MemoryPlan {
  checkTrainShape(train);
  const { hiddenSize: H, numLayers: L, numHeads: Hq, numKvHeads: Hkv, headDim: D, intermediateSize: I, vocabSize: V } = model;
  const alloc = (bytes: number) => allocatedBytes(bytes, adapter.maxBufferBytes);
  const P = paramCount(model);
  const grpo = train.stages.includes('grpo');
  const items: MemoryItem[] = [];
  const add = (name: string, phase: MemoryPhase, bytes: number, detail: string) => items.push({ name, phase, bytes, detail });

  const f32Params = parameterBytes(model, 4, adapter);
  for (const name of ['weights (f32)', 'gradients (f32)', 'AdamW m (f32)', 'AdamW v (f32)']) add(name, 'persistent', f32Params, `${P} params x 4 B, as allocated`);
  if (grpo && train.refModel === 'f32') add('reference model (f32)', 'persistent', f32Params, `${P} params x 4 B, as allocated`);
  if (grpo && train.refModel === 'bf16') {
    const ref = bf16ReferenceBytes(model, adapter);
    add('reference model (bf16 layer matrices)', 'persistent', ref.stored, `${P} params, the layers' matrices x 2 B and the rest x 4 B, as allocated`);
    add('reference layer matrices widened to f32', 'persistent', ref.widened, 'one layer\'s attention and MLP matrices x 4 B, as allocated');
  }
  const ropeBytes = model.maxPositionEmbeddings * D * 4;
  add('RoPE table', 'persistent', exactBytes(ropeBytes), `${model.maxPositionEmbeddings} positions x ${D} x 4 B`);
  // The reference is a model of its own (trainer.ts), with its own table.
  if (grpo && train.refModel !== 'none') add('RoPE table of the reference model', 'persistent', exactBytes(ropeBytes), `${model.maxPositionEmbeddings} positions x ${D} x 4 B`);

  // Each with the settings that shrink it, for the refusal's advice.
  const candidates: { name: string; bytes: number; lower: string }[] = [{ name: 'RoPE table', bytes: ropeBytes, lower: "max_position_embeddings in the model's config.json" }];
  const generationAdvice = 'grpo.generationRows, the batch, rollouts or sequence length';
  const perLayer = layerActivationFloats(model);
  const keptFloats = perLayer.reduce((a, b) => a + b, 0);
  const widest = widestActivationFloats(model);
  if (grpo) {
    const G = train.generationRows ?? train.batchRows * train.rollouts;
    const kvDtype = train.kvCacheDtype ?? 'f32';
    // Prefill runs each distinct prompt once (the rollouts of a row share it: kv-session.ts
    // samePromptGroups), see decodingMemory.
    const prompts = mostPromptsPerCall(train.batchRows, train.rollouts, G);
    const promptLen = train.seqLen - train.maxNewTokens;
    // Real prompts are the data's, of 1 .. maxPromptLen tokens, and a call may hold fewer distinct
    // ones (its last, or rows with the same judge prompt): any total up to the padded one.
    const d = decodingMemory(model, adapter, { seqs: G, positions: train.seqLen, prompts, promptLen, promptTokensLow: 1, kvDtype, exact: false });
    add('KV cache', 'generation', d.kvBytes,
      `2 x ${L} layers x ${G} seqs x ${train.seqLen} positions x ${Hkv * D} x ${kvCacheValueBytes(kvDtype)} B (${kvDtype})` + (d.parts.length > 1 ? `, each layer's in ${d.parts.length} parts of up to ${d.parts[0]} seqs` : ''));
    add('sampling logits', 'generation', d.logitsBytes, `${d.logitRows} rows x ${V} vocab x 4 B`);
    add('prefill working set (one layer)', 'generation', d.prefillBytes,
      d.passTokens === d.promptTokens
        ? `${prompts} distinct prompts x ${promptLen} tokens x ${keptFloats + 2 * H + Hkv * D} floats, as allocated`
        : `passes of ${d.passTokens} of up to ${d.promptTokens} prompt tokens, and a last of up to ${d.lastMost}, x ${keptFloats + 2 * H + Hkv * D} floats, as allocated`);
    add('decode step working set (one layer)', 'generation', d.decodeBytes, `${G} seqs (and each smaller batch as they finish) x ${keptFloats + 2 * H + Hkv * D} floats and their logits, as allocated, beyond the prefill's (freed before decoding)`);
    const f16Advice = kvDtype === 'f32' ? ', or set grpo.kvCacheDtype f16' : '';
    const partLimit = Math.min(adapter.maxStorageBindingBytes, adapter.maxBufferBytes);
    candidates.push(d.perSlot > partLimit
      // Not even one sequence fits: fewer sequences do not help, shorter ones do.
      ? { name: `KV cache of one sequence in one layer (${train.seqLen} positions)`, bytes: d.perSlot, lower: `grpo.maxPromptLen or grpo.maxNewTokens${f16Advice}` }
      : {
        name: d.parts.length === 1 ? `KV cache of one layer (${G} seqs x ${train.seqLen} positions)` : `KV cache part of one layer (${d.parts[0]} of ${G} seqs x ${train.seqLen} positions)`,
        bytes: d.parts[0]! * d.perSlot,
        lower: `${generationAdvice}${f16Advice}`,
      });
  }
  const evaluationPlan = train.evaluation === undefined ? null : evaluationMemory(model, adapter, train.evaluation);
  const evaluation = evaluationPlan?.best ?? null;
  if (evaluation) {
    const { d, promptLen, rows, positions } = evaluation;
    const at = `at its largest, ${rows} judgments of ${promptLen}-token prompts decoded together` +
      (train.evaluation!.longestPrompt === undefined ? ', any prompt the context allows' : `, prompts of up to ${train.evaluation!.longestPrompt} tokens${train.evaluation!.longestPromptSource ? ` (${train.evaluation!.longestPromptSource})` : ''}`);
    add('evaluation KV cache', 'evaluation', d.kvBytes, `2 x ${L} layers x ${rows} seqs x ${positions} positions x ${Hkv * D} x 4 B (${at})`);
    add('evaluation sampling logits', 'evaluation', d.logitsBytes, `${d.logitRows} rows x ${V} vocab x 4 B`);
    add('evaluation prefill (one layer)', 'evaluation', d.prefillBytes,
      `${d.passTokens} prompt tokens a pass${d.lastMost ? `, and a last of up to ${d.lastMost},` : ''} x ${keptFloats + 2 * H + Hkv * D} floats, as allocated`);
    add('evaluation decode step (one layer)', 'evaluation', d.decodeBytes, `${rows} seqs (and each smaller batch as they finish) x ${keptFloats + 2 * H + Hkv * D} floats and their logits, as allocated, beyond the prefill's (freed before decoding)`);
  }

  const N = train.microBatchRows * train.seqLen;
  if (grpo && (train.updatesPerBatch ?? 1) > 1) {
    // grpo.ts keeps every micro-batch's mask, loss weights, advantages, old and reference
    // log-probs [N] from the first update for the later ones (weights counted as their own tensor).
    const microBatches = Math.ceil((train.batchRows * train.rollouts) / train.microBatchRows);
    const perMicroBatch = (train.refModel === 'none' ? 4 : 5) * alloc(N * 4);
    add('loss inputs kept between updates', 'training', microBatches * perMicroBatch,
      `${microBatches} micro-batches x ${train.refModel === 'none' ? 4 : 5} x ${N} tokens x 4 B, as allocated (grpo.updatesPerBatch ${train.updatesPerBatch})`);
  }
  const layerBytes = perLayer.reduce((a, f) => a + alloc(N * f * 4), 0);
  // After the layers: final residual xOut and norm output hF [N, H]; rstdF, logprobs, lse, entropy [N]; ids, positions, targets [N] i32.
  const tailBytes = 2 * alloc(N * H * 4) + 7 * alloc(N * 4);
  if (train.recompute) {
    add('layer inputs kept by forward', 'training', L * alloc(N * H * 4) + tailBytes, `${N} tokens x (${L} layers x ${H} + ${2 * H + 7}) floats, as allocated (recomputation)`);
    // One layer's activations at a time, in forward and again in backward (the next layer reuses
    // the buffers): all but its input, which is a kept one, and in its place the attention
    // projection, as wide, beside them while backward recomputes them. The recomputation's other
    // short-lived tensors (q and k before RoPE) fit buffers of the backward working set's sizes,
    // free at that point; so do the forward's.
    add('one layer\'s activations, recomputed', 'training', layerBytes,
      `${N} tokens x (${keptFloats - H} + ${H} for the attention projection) floats, as allocated`);
  } else {
    add('activations kept by forward', 'training', L * layerBytes + tailBytes, `${N} tokens x (${L} layers x ${keptFloats} + ${2 * H + 7}) floats, as allocated`);
  }
  // The loss's vectors of the micro-batch in flight: SFT's mask and dL/dlogprobs; GRPO's mask, loss
  // weights, advantages, old and reference log-probs (unless kept between updates, above), the
  // sampler's log-probs, their gap and dL/dlogprobs [N]; and the step's sums, a few floats each
  // (with the LM head's stand-in for an entropy not asked for).
  const updatesKept = grpo && (train.updatesPerBatch ?? 1) > 1;
  const lossVectors = !grpo ? 2 : updatesKept ? 3 : train.refModel === 'none' ? 7 : 8;
  const sums = grpo ? 8 : 4;
  add('loss vectors of a micro-batch', 'training', lossVectors * alloc(N * 4) + sums * alloc(32),
    `${lossVectors} x ${N} tokens x 4 B + ${sums} sums of at most 8 floats, as allocated`);
  // dx, dH, dNormed [N, H] live through the whole backward, plus one layer's temporaries at a time.
  // The pool frees nothing within a step and reuses a buffer only for its own size class, so the
  // MLP's and the attention's temporaries are both held (their sum, not the larger).
  const layerTemps = 3 * alloc(N * I * 4) + 2 * alloc(N * Hq * D * 4) + 3 * alloc(N * Hkv * D * 4);
  add('backward working set', 'training', 3 * alloc(N * H * 4) + layerTemps, `${N} tokens x (3 x ${H} + 3 x ${I} + 2 x ${Hq * D} + 3 x ${Hkv * D}) floats, as allocated`);
  if (V * 4 <= adapter.maxStorageBindingBytes) {
    const chunk = lmHeadChunkTokens(adapter.maxStorageBindingBytes, V, N);
    // Chunked (fewer tokens than N), the head also copies each chunk's h in and its dh out.
    const copies = chunk < N ? 2 * alloc(chunk * H * 4) : 0;
    add('LM head logits chunk', 'training', alloc(chunk * V * 4) + copies, `${chunk} tokens x ${V} vocab x 4 B${chunk < N ? ` + 2 x ${chunk} x ${H} x 4 B` : ''}`);
  }
  // The embedding gradient's tokens grouped by id (ops/embedding.ts): at most 3 N + one per table part.
  const embeddingParts = Math.ceil(V / rowsPerPartFor(H, adapter.maxStorageBindingBytes, 4));
  add('embedding gradient token index', 'training', alloc((3 * N + embeddingParts) * 4), `(3 x ${N} tokens + ${embeddingParts} table parts) x 4 B, as allocated`);
  // Small scratch: each norm's dw partial sums (one buffer per size class, reused), attention's
  // delta, and the partial sums of the gradient norm over every weight part.
  const gpuLimits = { maxWorkgroupsPerDim: 65535, maxStorageBindingBytes: adapter.maxStorageBindingBytes };
  const normPartials = new Set([[N, H], [N * Hq, D], [N * Hkv, D]].map(([rows, dim]) => alloc(dwPartialBlocks(rows!, dim!, gpuLimits).blocks * dim! * 4)));
  const gradPartials = parameterPartSizes(model, 4, adapter).reduce((n, size) => n + gradNormPartials(size), 0);
  add('norm and gradient-norm partial sums', 'training', [...normPartials].reduce((a, b) => a + b, 0) + alloc(N * Hq * 4) + alloc(gradPartials * 4),
    `dw partials of the ${H}- and ${D}-wide norms, ${N} x ${Hq} attention deltas, ${gradPartials} gradient-norm partials, x 4 B`);
  candidates.push({ name: `activation [${N} tokens, ${widest}]`, bytes: N * widest * 4, lower: `${grpo ? 'grpo' : 'sft'}.microBatchRows or the sequence length` });

  const persistentBytes = sumPhase(items, 'persistent');
  const generationBytes = sumPhase(items, 'generation');
  const trainingBytes = sumPhase(items, 'training');
  const evaluationBytes = sumPhase(items, 'evaluation');
  const totalBytes = persistentBytes + Math.max(generationBytes, trainingBytes, evaluationBytes);
  const largestTensor = candidates.reduce((a, b) => (b.bytes > a.bytes ? b : a));

  const reasons: string[] = [];
  const notes: string[] = [];
  const bindingLimit = Math.min(adapter.maxStorageBindingBytes, adapter.maxBufferBytes);
  if (V * 4 > adapter.maxStorageBindingBytes) {
    reasons.push(`one row of ${V} logits (${formatBytes(V * 4)}) exceeds the adapter's storage binding limit (${formatBytes(adapter.maxStorageBindingBytes)})`);
  }
  if (largestTensor.bytes > bindingLimit) {
    reasons.push(
      `the ${largestTensor.name} takes ${formatBytes(largestTensor.bytes)}, more than one storage binding holds on this adapter ` +
        `(${formatBytes(bindingLimit)}); lower ${largestTensor.lower}`,
    );
  }
  if (evaluationPlan?.refusedFrom != null) {
    const e = train.evaluation!;
    const positions = Math.min(model.maxPositionEmbeddings, evaluationPlan.refusedFrom + e.maxNewTokens);
    reasons.push(
      `evaluation during training: a judgment of a ${evaluationPlan.refusedFrom}-token prompt and up to ${e.maxNewTokens} new tokens needs a one-layer KV cache of ` +
        `${formatBytes(kvCacheBytesPerTensor(1, positions, Hkv * D))}, more than one storage binding holds (${formatBytes(bindingLimit)}), and prompts of up to ` +
        `${e.longestPrompt ?? model.maxPositionEmbeddings - 1} tokens are planned (${e.longestPromptSource ?? 'any the context allows'}): lower eval.maxNewTokens or leave the longest pairs out of data.eval`,
    );
  }
  const device = adapter.totalBytes;
  if (device === undefined) {
    notes.push('device memory unknown (WebGPU does not report it): pass --gpu-memory, e.g. 24GB');
  } else if (persistentBytes > device) {
    reasons.push(
      16 * P > device
        ? `weights + gradients + AdamW m and v alone need 16 bytes/param x ${sci(P)} params = ${formatBytes(16 * P)} ` +
            `(${formatBytes(persistentBytes)} of persistent state as allocated), more than the device's ${formatBytes(device)}; ` +
            'f32 training keeps all four on the GPU'
        : `the persistent state needs ${formatBytes(persistentBytes)} (weights, gradients and AdamW m and v: 16 bytes/param x ${sci(P)} params = ` +
            `${formatBytes(16 * P)}${grpo && train.refModel !== 'none' ? ', and the KL reference' : ', and the RoPE table'}), more than the device's ${formatBytes(device)}` +
            (train.refModel === 'f32' ? '; grpo.referenceDtype bf16 keeps the reference\'s layer matrices in half the memory' : ''),
    );
  } else {
    if (persistentBytes + trainingBytes > device) {
      reasons.push(
        `a micro-batch of ${train.microBatchRows} x ${train.seqLen} tokens needs ${formatBytes(trainingBytes)} of activations; ` +
          `with ${formatBytes(persistentBytes)} of persistent state that is ${formatBytes(persistentBytes + trainingBytes)} > ${formatBytes(device)}: ` +
          `lower microBatchRows or the sequence length${train.recompute ? '' : ', or recompute activations in backward (model.gradientCheckpointing true)'}`,
      );
    }
    if (persistentBytes + generationBytes > device) {
      reasons.push(
        `generation needs ${formatBytes(generationBytes)} (KV cache and prefill for ${train.generationRows ?? train.batchRows * train.rollouts} sequences x ${train.seqLen} positions); ` +
          `with ${formatBytes(persistentBytes)} of persistent state that is ${formatBytes(persistentBytes + generationBytes)} > ${formatBytes(device)}: ` +
          'lower grpo.generationRows (rollouts generated together), grpo.batchPairs, grpo.rollouts or grpo.maxNewTokens' +
          ((train.kvCacheDtype ?? 'f32') === 'f32' ? ', or set grpo.kvCacheDtype f16 (half the KV cache)' : ''),
      );
    }
    if (evaluation && persistentBytes + evaluationBytes > device) {
      reasons.push(
        `evaluation during training (eval.every) needs up to ${formatBytes(evaluationBytes)} (${evaluation.rows} judgments of ${evaluation.promptLen}-token prompts decoded together); ` +
          `with ${formatBytes(persistentBytes)} of persistent state that is ${formatBytes(persistentBytes + evaluationBytes)} > ${formatBytes(device)}: ` +
          `lower eval.kvMemoryBytes (now ${formatBytes(train.evaluation!.kvBudgetBytes)} of KV cache a chunk) or eval.maxNewTokens, or evaluate the checkpoints with eval.js instead`,
      );
    }
  }
  return {
    params: P, items, persistentBytes, generationBytes, trainingBytes, evaluationBytes, totalBytes,
    ...(evaluation && { evaluationAt: { promptLen: evaluation.promptLen, judgments: evaluation.rows } }), largestTensor: { name: largestTensor.name, bytes: largestTensor.bytes },
    fits: reasons.length === 0, reasons, notes, ...(device !== undefined ? { deviceBytes: device } : {}),
  };
}

/** One generate() call's working set: its KV cache (in parts of whole sequences), sampling logits and prefill. */
interface DecodingShape {
  seqs: number;
  positions: number;
  /** Distinct prompts prefilled, of up to promptLen tokens each (their real lengths may be shorter). */
  prompts: number;
  promptLen: number;
  /** The fewest real prompt tokens the call may hold (prompts x promptLen when every prompt is that long). */
  promptTokensLow: number;
  kvDtype: KvCacheDtype;
  /** A cache of its own size (generate's exactKvCache, as eval's judging asks) rather than a pooled one. */
  exact: boolean;
}

/**
 * The bytes of one generate() call as allocated. Prefill runs the distinct prompts through one layer
 * at a time (a layer's tensors are freed before the next): one layer's activations, its output and
 * its short-lived kN and o/mlp, for every prompt token of a pass. When the prompts padded to the
 * longest are wider than a binding holds, their real tokens run in passes of as many as one holds
 * (KvSession.prefillChunkRows), the last with the remainder; a tensor of that last pass in a smaller
 * size class finds none of the full passes' free in the pool (they are freed there, not to the
 * device). Real lengths are the data's, so each tensor is counted with the worst such remainder.
 */
function decodingMemory(model: Qwen3Config, adapter: AdapterMemory, d: DecodingShape) {
  const { hiddenSize: H, numLayers: L, vocabSize: V } = model;
  const kvDim = model.numKvHeads * model.headDim;
  const alloc = (bytes: number) => allocatedBytes(bytes, adapter.maxBufferBytes);
  const perSlot = kvCacheBytesPerTensor(1, d.positions, kvDim, d.kvDtype);
  const partLimit = Math.min(adapter.maxStorageBindingBytes, adapter.maxBufferBytes);
  // One sequence past a binding is the plan's largest tensor, and refused there.
  const parts = perSlot <= partLimit ? kvCacheParts(d.seqs, d.positions, kvDim, d.kvDtype, partLimit) : [d.seqs];
  const kvBytes = 2 * L * parts.reduce((sum, n) => sum + (d.exact ? exactBytes(n * perSlot) : alloc(n * perSlot)), 0);
  const bindingRows = Math.max(1, Math.floor(adapter.maxStorageBindingBytes / (V * 4)));
  const logitRows = Math.min(d.seqs, bindingRows);
  const promptTokens = d.prompts * d.promptLen;
  const passTokens = Math.min(promptTokens, tokensPerBinding(model, adapter.maxStorageBindingBytes));
  const lastPasses = lastPassSizes(d.promptTokensLow, promptTokens, passTokens);
  const layerFloats = [...layerActivationFloats(model), H, H, kvDim];
  const prefillBytes = layerFloats.reduce((a, f) => {
    const full = alloc(passTokens * f * 4);
    return a + full + Math.max(0, ...lastPasses.map(([lo, hi]) => largestBelow(lo, hi, (n) => alloc(n * f * 4), full)));
  }, 0);
  const lastMost = Math.max(0, ...lastPasses.map(([, hi]) => hi));
  // The prefill's logits, of every sequence, in chunks of logitRows rows.
  const logitsBytes = alloc(logitRows * V * 4);
  // A decode step runs one layer at a time for the sequences still active, and their logits, fewer
  // rows as they finish: each size a step takes stays pooled for the rest of the call, so every size
  // of 1 .. seqs rows counts. generate() frees the prefill's buffers before decoding, so the decode
  // phase adds only what it takes beyond the prefill and its logits.
  const decodePhase = layerFloats.reduce((a, f) => a + classesOfRows(d.seqs, (n) => alloc(n * f * 4)), 0) + classesOfRows(logitRows, (n) => alloc(n * V * 4));
  const decodeBytes = Math.max(0, decodePhase - prefillBytes - logitsBytes);
  return {
    perSlot, parts, kvBytes, logitRows, logitsBytes, promptTokens, passTokens, lastMost, prefillBytes, decodeBytes,
    total: kvBytes + logitsBytes + prefillBytes + decodeBytes,
  };
}

/**
 * The token counts a prefill's last, shorter pass may hold when the call's real prompt tokens are
 * lo..hi and a pass holds `pass` (KvSession.prefillInChunks: full passes, then the remainder), as
 * ranges; none when no call needs a full pass and a shorter one. Only remainders of totals of at
 * least one full pass count: a total under a pass is one pass of it, no larger than a full one.
 */
function lastPassSizes(lo: number, hi: number, pass: number): [number, number][] {
  const from = Math.max(lo, pass + 1);
  if (hi < from) return [];
  if (hi - from + 1 >= pass) return [[1, pass - 1]];
  const [a, b] = [from % pass, hi % pass];
  const ranges: [number, number][] = a <= b ? [[a, b]] : [[a, pass - 1], [0, b]];
  return ranges.map(([x, y]) => [Math.max(1, x), y] as [number, number]).filter(([x, y]) => x <= y);
}

/** The sum of the distinct sizes size(n) takes for n in 1..rows (size grows with n): a pool holding one buffer of each. */
function classesOfRows(rows: number, size: (n: number) => number): number {
  let total = 0;
  for (let n = rows; n >= 1;) {
    const s = size(n);
    total += s;
    // The fewest rows of that size: the next smaller size is one row below.
    let lo = 1, hi = n;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (size(mid) >= s) hi = mid;
      else lo = mid + 1;
    }
    n = lo - 1;
  }
  return total;
}

/** The largest size(n) below `limit` for n in lo..hi (size grows with n), or 0 when none is. */
function largestBelow(lo: number, hi: number, size: (n: number) => number, limit: number): number {
  if (hi < lo || size(lo) >= limit) return 0;
  while (lo < hi) { // size(lo) < limit
    const mid = Math.ceil((lo + hi) / 2);
    if (size(mid) < limit) lo = mid;
    else hi = mid - 1;
  }
  return size(lo);
}

/**
 * Evaluation during training at its largest over the prompt lengths the data may hold (1 to its
 * longest prompt when known, else to the context less one, which run-data.ts allows): its chunks
 * hold as many judgments as the row bound and the KV budget allow (eval/generation-chunks.ts), each
 * with an exact f32 cache. Every length is tried: a prefill in passes is not monotone in it (a last
 * pass of another size class adds its own buffers). From the first length whose one-sequence cache
 * passes a binding on (refusedFrom), the KV session refuses the judgment before it allocates: the
 * plan refuses such prompts. Cached per shape object (not to be changed once planned), since a
 * micro-batch search plans the same evaluation many times.
 */
function evaluationMemory(model: Qwen3Config, adapter: AdapterMemory, e: EvaluationShape): { best: EvaluationPeak | null; refusedFrom: number | null } {
  const cached = evaluationCache.get(e);
  if (cached && cached.model === model && cached.adapter.maxBufferBytes === adapter.maxBufferBytes && cached.adapter.maxStorageBindingBytes === adapter.maxStorageBindingBytes) return cached.result;
  const kvDim = model.numKvHeads * model.headDim;
  const context = model.maxPositionEmbeddings;
  const partLimit = Math.min(adapter.maxStorageBindingBytes, adapter.maxBufferBytes);
  const cap = Math.max(1, Math.min(e.maxRows, e.judgments));
  const perPosition = 2 * model.numLayers * kvCacheBytesPerTensor(1, 1, kvDim);
  const longestPrompt = Math.min(context - 1, e.longestPrompt ?? Infinity);
  let best: EvaluationPeak | null = null;
  let refusedFrom: number | null = null;
  for (let promptLen = 1; promptLen <= longestPrompt; promptLen++) {
    const positions = Math.min(context, promptLen + e.maxNewTokens);
    if (kvCacheBytesPerTensor(1, positions, kvDim) > partLimit) {
      refusedFrom = promptLen; // and every longer one
      break;
    }
    // heldOutEvaluator decodes a judgment alone when its cache alone passes the budget.
    const rows = Math.max(1, Math.min(cap, Math.floor(e.kvBudgetBytes / (positions * perPosition))));
    // The chunk's longest prompt is promptLen tokens, its others 1 .. promptLen.
    const d = decodingMemory(model, adapter, { seqs: rows, positions, prompts: rows, promptLen, promptTokensLow: promptLen + rows - 1, kvDtype: 'f32', exact: true });
    if (!best || d.total > best.d.total) best = { d, promptLen, rows, positions };
  }
  const result = { best, refusedFrom };
  evaluationCache.set(e, { model, adapter, result });
  return result;
}

interface EvaluationPeak {
  d: ReturnType<typeof decodingMemory>;
  promptLen: number;
  rows: number;
  positions: number;
}

const evaluationCache = new WeakMap<EvaluationShape, { model: Qwen3Config; adapter: AdapterMemory; result: { best: EvaluationPeak | null; refusedFrom: number | null } }>();

/**
 * The largest microBatchRows with which the shape's plan fits, at most a step's rows: batchRows x
 * rollouts, found by a binary search, since the plan grows with the micro-batch. (With
 * updatesPerBatch above 1 the inputs kept for every micro-batch make it step down by a few [N]
 * vectors where the micro-batch count drops, so a slightly larger micro-batch than the one found
 * can fit too.) 0 when not even one sequence fits, or when the plan fails for a reason no
 * micro-batch changes (the persistent state, generation's KV cache). Needs the device's memory.
 */
export function largestMicroBatch(model: Qwen3Config, train: MemoryPlanTrain, adapter: AdapterMemory): number {
  if (adapter.totalBytes === undefined) throw new RangeError('largestMicroBatch: the device memory (adapter.totalBytes) is needed');
  const fits = (rows: number) => planMemory(model, { ...train, microBatchRows: rows }, adapter).fits;
  let lo = 0, hi = train.batchRows * train.rollouts;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The shape of one stage of a run, for planMemory. */
export function trainShapeForStage(cfg: TrainConfig, stage: Stage): MemoryPlanTrain {
  if (stage === 'sft') {
    const s = cfg.sft;
    return {
      stages: ['sft'], microBatchRows: s.microBatchRows, seqLen: s.maxSeqLen, rollouts: 1, batchRows: s.batchRows, maxNewTokens: 0, refModel: 'none',
      ...(cfg.model.gradientCheckpointing && { recompute: true }),
    };
  }
  const g = cfg.grpo;
  return {
    stages: ['grpo'],
    microBatchRows: g.microBatchRows,
    seqLen: g.maxPromptLen + g.maxNewTokens,
    rollouts: g.rollouts,
    batchRows: 2 * g.batchPairs,
    maxNewTokens: g.maxNewTokens,
    refModel: g.klCoef > 0 ? g.referenceDtype : 'none',
    ...(g.kvCacheDtype !== 'f32' && { kvCacheDtype: g.kvCacheDtype }),
    ...(g.generationRows !== undefined && { generationRows: g.generationRows }),
    ...(g.updatesPerBatch !== 1 && { updatesPerBatch: g.updatesPerBatch }),
    ...(cfg.model.gradientCheckpointing && { recompute: true }),
  };
}

/** An aligned table in MiB/GiB, then the totals, the device size and the verdict. */
export function formatPlan(plan: MemoryPlan): string {
  const rows = plan.items.map((i) => [i.name, i.phase, formatBytes(i.bytes), i.detail] as const);
  const totals: [string, number][] = [
    ['persistent', plan.persistentBytes],
    ['generation phase', plan.generationBytes],
    ['training phase', plan.trainingBytes],
    ...(plan.evaluationAt ? [['evaluation phase (at most)', plan.evaluationBytes] as [string, number]] : []),
    ['peak (persistent + largest phase)', plan.totalBytes],
  ];
  if (plan.deviceBytes !== undefined) totals.push(['device', plan.deviceBytes]);
  const phaseWidth = Math.max(...rows.map((r) => r[1].length), 'phase'.length);
  // Item names and total labels share the space left of the size column.
  const nameWidth = Math.max(...rows.map((r) => r[0].length), 'item'.length, ...totals.map(([l]) => l.length - phaseWidth - 2));
  const sizeWidth = Math.max(...rows.map((r) => r[2].length), ...totals.map(([, b]) => formatBytes(b).length), 'size'.length);
  const line = (name: string, phase: string, size: string, how: string) =>
    `${name.padEnd(nameWidth)}  ${phase.padEnd(phaseWidth)}  ${size.padStart(sizeWidth)}  ${how}`.trimEnd();
  const out = [line('item', 'phase', 'size', 'how'), ...rows.map((r) => line(...r))];
  for (const [label, bytes] of totals) out.push(`${label.padEnd(nameWidth + phaseWidth + 2)}  ${formatBytes(bytes).padStart(sizeWidth)}`);
  out.push(`largest single tensor: ${plan.largestTensor.name}, ${formatBytes(plan.largestTensor.bytes)}`);
  out.push(plan.fits ? 'fits: yes' : `fits: NO\n${plan.reasons.map((r) => `  - ${r}`).join('\n')}`);
  for (const note of plan.notes) out.push(`note: ${note}`);
  return out.join('\n');
}
