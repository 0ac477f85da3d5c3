// A KV-cache session: per layer K and V caches [slots, maxLen, Hkv*D] on the
// GPU, allocated once, in parts of whole slots that each fit one storage binding
// (a cache of many long sequences is larger than one). Cache slot s holds sequence
// s; its token at position p sits at [s, p], so ragged prompts need no padding inside the cache: prefill
// runs the prompts right-padded to the longest, and the padding positions of
// a short prompt are overwritten by its own generated tokens before any query
// can see them (a query at position p reads only positions 0..p). Prompts whose
// one-pass activation would not fit a storage binding run instead in passes
// over their real tokens that attend through the cache (prefillInChunks).
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';
import { attentionForward } from '../ops/attention.js';
import { attentionDecode, kvAppend, kvCacheValueBytes, type DecodeAttentionShape, type KvCacheDtype } from '../ops/decode-attention.js';
import { embeddingForward } from '../ops/embedding.js';
import { gatherRows } from '../ops/gather.js';
import { matmul } from '../ops/matmul.js';
import { tokensPerBinding, widestActivationFloats, type Qwen3 } from './qwen3.js';

const MiB = 1024 * 1024;

export interface KvSessionOptions {
  /**
   * Each cache tensor a buffer of its own size, not the pool's power-of-two class (up to twice
   * as large), for a caller that holds the cache to a memory budget and trims the pool after
   * each session (exact buffers are never reused; trimPool destroys them). Default false.
   */
  exact?: boolean;
  /** Precision of the cached k and v (decode-attention.ts). Default 'f32'. */
  cacheDtype?: KvCacheDtype;
  /** Slots per cache part; default as many as one storage binding holds (kvCacheParts). Smaller values test the split. */
  slotsPerPart?: number;
}

export class KvSession {
  /** Per layer, the K and V parts: part i holds slots i * slotsPerPart .. (kvCacheParts). */
  private readonly kCache: Tensor[][] = [];
  private readonly vCache: Tensor[][] = [];
  readonly slotsPerPart: number;
  private readonly rt: Runtime;

  /**
   * Rows (prompt tokens) per prefill pass when the prompts do not fit one pass: by default as many
   * as one storage binding holds of the widest activation. Settable to test the chunked path.
   */
  prefillChunkRows: number;

  readonly cacheDtype: KvCacheDtype;

  constructor(readonly model: Qwen3, readonly slots: number, readonly maxLen: number, options: KvSessionOptions = {}) {
    this.rt = model.rt;
    const { cfg } = model;
    // The fourth argument was `exact` itself once: a JavaScript caller passing true must not get a pooled cache.
    if (typeof options !== 'object' || options === null) throw new TypeError(`KvSession: the fourth argument is { exact?, cacheDtype? }, got ${String(options)}`);
    const exact = options.exact ?? false;
    this.cacheDtype = options.cacheDtype ?? 'f32';
    if (maxLen > cfg.maxPositionEmbeddings) {
      throw new Error(`KV cache of ${maxLen} positions exceeds the model's context (max_position_embeddings ${cfg.maxPositionEmbeddings})`);
    }
    const kvDim = cfg.numKvHeads * cfg.headDim;
    if (this.cacheDtype === 'f16' && kvDim % 2 !== 0) throw new Error(`an f16 KV cache packs two values a word, so num_key_value_heads x head_dim must be even, got ${kvDim}`);
    const limit = this.rt.gpu.maxStorageBindingBytes;
    const parts = kvCacheParts(slots, maxLen, kvDim, this.cacheDtype, Math.min(limit, this.rt.gpu.maxBufferBytes), options.slotsPerPart);
    this.slotsPerPart = parts[0]!;
    this.prefillChunkRows = tokensPerBinding(cfg, limit);
    // An f16 cache is a u32 tensor of half the width: two values a word.
    const [width, dtype] = this.cacheDtype === 'f16' ? [kvDim / 2, 'u32' as const] : [kvDim, 'f32' as const];
    for (let l = 0; l < cfg.numLayers; l++) {
      this.kCache.push(parts.map((n, i) => this.rt.empty([n, maxLen, width], dtype, `kcache${l}.${i}`, exact)));
      this.vCache.push(parts.map((n, i) => this.rt.empty([n, maxLen, width], dtype, `vcache${l}.${i}`, exact)));
    }
  }

  /**
   * Runs prompts (one per slot 0..B-1) through the model, filling the cache.
   * Logits go to `onLogits` for each prompt's last token (row b = prompt b),
   * or, with `allPositions`, for every right-padded position (row b*Tp + t).
   * Returns Tp, the padded prompt length.
   *
   * Sequences with the same prompt (the k votes on one response, a GRPO group's rollouts) share
   * one pass: each distinct prompt runs once, its K/V rows are appended to the slot of every
   * sequence that has it, and every sequence still gets its own logits row. A row's result does
   * not depend on the other rows of the pass, so this changes no value, only the work (k = 8
   * votes: an eighth of the prefill).
   */
  prefill(prompts: readonly Int32Array[], onLogits: LogitsConsumer, allPositions = false): number {
    const { rt, model } = this;
    const { cfg } = model;
    const B = prompts.length;
    if (B === 0 || B > this.slots) throw new Error(`prefill: ${B} prompts for a session of ${this.slots} slots`);
    const Tp = Math.max(...prompts.map((p) => p.length));
    if (Tp > this.maxLen) throw new Error(`prefill: a prompt of ${Tp} tokens exceeds the session length ${this.maxLen}`);
    prompts.forEach((p, b) => {
      if (p.length === 0) throw new Error(`prefill: prompt ${b} is empty`);
    });
    // With allPositions every sequence's rows are wanted, so none are shared.
    const groups = allPositions ? prompts.map((_, b) => [b]) : samePromptGroups(prompts);
    const U = groups.length;
    const N = U * Tp;
    // The whole prompt runs as one pass when its widest activation fits one binding; otherwise the
    // real tokens run in passes of prefillChunkRows rows that attend through the cache.
    if (N > this.prefillChunkRows) {
      if (!allPositions) return this.prefillInChunks(prompts, groups, Tp, onLogits);
      const width = widestActivationFloats(model.cfg);
      throw new Error(
        `prefill of ${U} distinct prompt(s) of up to ${Tp} tokens with every position's logits needs a [${N}, ${width}] activation of ` +
          `${((N * width * 4) / MiB).toFixed(1)} MiB, more than one storage binding holds on this adapter (${(rt.gpu.maxStorageBindingBytes / MiB).toFixed(1)} MiB): ` +
          'run fewer or shorter prompts at once',
      );
    }
    const ids = new Int32Array(N), positions = new Int32Array(N);
    groups.forEach((group, u) => {
      const p = prompts[group[0]!]!;
      for (let t = 0; t < Tp; t++) {
        ids[u * Tp + t] = t < p.length ? p[t]! : p[p.length - 1]!; // padding: any valid id
        positions[u * Tp + t] = t;
      }
    });
    model.checkTokens(ids, positions);
    // Copy r of the cache rows: row u * Tp + t goes to the r-th sequence of group u (-1: none, skipped).
    const copies = Math.max(...groups.map((g) => g.length));
    const slotTs = Array.from({ length: copies }, (_, r) => {
      const slots = new Int32Array(N);
      groups.forEach((group, u) => slots.fill(group[r] ?? -1, u * Tp, (u + 1) * Tp));
      return rt.upload(slots, [N], 'slots');
    });
    const D = cfg.headDim, Hq = cfg.numHeads, Hkv = cfg.numKvHeads;
    const idsT = rt.upload(ids, [N], 'ids'), posT = rt.upload(positions, [N], 'pos');
    const shape = { B: U, T: Tp, Hq, Hkv, D, scale: 1 / Math.sqrt(D) };
    const x = this.runLayers(idsT, posT, N, (l, qRot, kRot, v, attn) => {
      for (const slotT of slotTs) this.append(l, kRot, v, slotT, posT, N);
      const lse = rt.empty([N, Hq]);
      attentionForward(rt, qRot, kRot, v, attn, lse, shape);
      lse.dispose();
    });
    let rows = x, M = N;
    if (!allPositions) {
      const lastRow = new Int32Array(B);
      groups.forEach((group, u) => group.forEach((b) => (lastRow[b] = u * Tp + prompts[b]!.length - 1)));
      const last = rt.upload(lastRow, [B], 'last');
      rows = rt.empty([B, cfg.hiddenSize]);
      gatherRows(rt, x, last, rows, B, cfg.hiddenSize);
      last.dispose();
      x.dispose();
      M = B;
    }
    this.emitLogits(rows, M, onLogits);
    rows.dispose();
    for (const t of [idsT, posT, ...slotTs]) t.dispose();
    return Tp;
  }

  /**
   * Prefill in passes over the prompts' real tokens (no padding), group by group in position order,
   * each pass appending its K/V rows to every copy's slot and then attending through the first
   * copy's cache as decoding does (a row at position p reads positions 0..p, all appended by this
   * pass or an earlier one). The last token's hidden state of each sequence is kept, and its logits
   * go to `onLogits` as in one pass (row b = prompt b).
   */
  private prefillInChunks(prompts: readonly Int32Array[], groups: readonly number[][], Tp: number, onLogits: LogitsConsumer): number {
    const { rt, model } = this;
    const { cfg } = model;
    const H = cfg.hiddenSize, D = cfg.headDim, Hq = cfg.numHeads, Hkv = cfg.numKvHeads;
    const copies = Math.max(...groups.map((g) => g.length));
    const rows: { u: number; t: number }[] = [];
    groups.forEach((group, u) => {
      for (let t = 0; t < prompts[group[0]!]!.length; t++) rows.push({ u, t });
    });
    // Every token is checked before the first pass is recorded.
    const allIds = Int32Array.from(rows, ({ u, t }) => prompts[groups[u]![0]!]![t]!);
    model.checkTokens(allIds, Int32Array.from(rows, ({ t }) => t));
    const finals = rt.empty([prompts.length, H], 'f32', 'prefill-last');
    try {
      for (let r0 = 0; r0 < rows.length; r0 += this.prefillChunkRows) {
        const chunk = rows.slice(r0, r0 + this.prefillChunkRows);
        const M = chunk.length;
        const inputs = [
          rt.upload(allIds.slice(r0, r0 + M), [M], 'ids'),
          rt.upload(Int32Array.from(chunk, ({ t }) => t), [M], 'pos'),
          ...Array.from({ length: copies }, (_, r) => rt.upload(Int32Array.from(chunk, ({ u }) => groups[u]![r] ?? -1), [M], 'slots')),
        ];
        try {
          const [idsT, posT, ...slotTs] = inputs as [Tensor, Tensor, ...Tensor[]];
          const shape = { M, maxLen: this.maxLen, Hq, Hkv, D, scale: 1 / Math.sqrt(D), cacheDtype: this.cacheDtype };
          const x = this.runLayers(idsT, posT, M, (l, qRot, kRot, v, attn) => {
            for (const slotT of slotTs) this.append(l, kRot, v, slotT, posT, M);
            this.attend(l, qRot, slotTs[0]!, posT, attn, shape);
          });
          chunk.forEach(({ u, t }, i) => {
            for (const b of groups[u]!) if (t === prompts[b]!.length - 1) rt.copy(x, finals, H, i * H, b * H);
          });
          x.dispose();
        } finally {
          for (const t of inputs) t.dispose();
        }
      }
      this.emitLogits(finals, prompts.length, onLogits);
    } finally {
      finals.dispose();
    }
    return Tp;
  }

  /** One new token for each of M rows: row i is token ids[i] of slot slots[i] at position positions[i]; logits go to `onLogits`. */
  step(ids: Int32Array, slots: Int32Array, positions: Int32Array, onLogits: LogitsConsumer): void {
    const { rt, model } = this;
    const { cfg } = model;
    const M = ids.length;
    for (let i = 0; i < M; i++) {
      if (slots[i]! < 0 || slots[i]! >= this.slots) throw new Error(`step: slot ${slots[i]} outside the session's ${this.slots} slots`);
      if (positions[i]! >= this.maxLen) throw new Error(`step: position ${positions[i]} outside the session length ${this.maxLen}`);
    }
    model.checkTokens(ids, positions);
    const D = cfg.headDim, Hq = cfg.numHeads, Hkv = cfg.numKvHeads;
    const idsT = rt.upload(ids, [M], 'ids'), posT = rt.upload(positions, [M], 'pos'), slotT = rt.upload(slots, [M], 'slots');
    const shape = { M, maxLen: this.maxLen, Hq, Hkv, D, scale: 1 / Math.sqrt(D), cacheDtype: this.cacheDtype };
    const x = this.runLayers(idsT, posT, M, (l, qRot, kRot, v, attn) => {
      this.append(l, kRot, v, slotT, posT, M);
      this.attend(l, qRot, slotT, posT, attn, shape);
    });
    this.emitLogits(x, M, onLogits);
    x.dispose();
    for (const t of [idsT, posT, slotT]) t.dispose();
  }

  /** Appends M tokens' k/v rows of layer l to the slots `slotT` names, part by part. */
  private append(l: number, k: Tensor, v: Tensor, slotT: Tensor, posT: Tensor, M: number): void {
    const { cfg } = this.model;
    this.kCache[l]!.forEach((kPart, i) => {
      kvAppend(this.rt, k, v, kPart, this.vCache[l]![i]!, slotT, posT, M, this.maxLen, cfg.numKvHeads, cfg.headDim, this.cacheDtype, i * this.slotsPerPart);
    });
  }

  /** Decode attention of layer l: each part writes the rows of its slots (and zeros for padding rows). */
  private attend(l: number, q: Tensor, slotT: Tensor, posT: Tensor, out: Tensor, shape: DecodeAttentionShape): void {
    this.kCache[l]!.forEach((kPart, i) => {
      attentionDecode(this.rt, q, kPart, this.vCache[l]![i]!, slotT, posT, out, { ...shape, slotBase: i * this.slotsPerPart });
    });
  }

  private runLayers(
    idsT: Tensor, posT: Tensor, N: number,
    attention: (l: number, qRot: Tensor, kRot: Tensor, v: Tensor, attn: Tensor) => void,
  ): Tensor {
    const { rt, model } = this;
    let x = rt.empty([N, model.cfg.hiddenSize]);
    embeddingForward(rt, idsT, model.embedding, x, N);
    for (let l = 0; l < model.cfg.numLayers; l++) {
      const { xOut, acts } = model.layerForward(l, x, N, posT, (qRot, kRot, v, attn) => {
        attention(l, qRot, kRot, v, attn);
        return null;
      });
      for (const t of Object.values(acts)) t.dispose(); // includes x (acts.xIn)
      x = xOut;
    }
    return x;
  }

  /**
   * logits = final_norm(x) @ W_head^T, handed to `onLogits` in row chunks
   * [rows, V] small enough for one binding (151936-wide rows: ~220 per
   * 128 MiB). The chunk tensor is reused after the callback returns, so the
   * callback records GPU work on it (sampling, a copy) rather than keeping it.
   */
  private emitLogits(x: Tensor, M: number, onLogits: LogitsConsumer): void {
    const { rt, model } = this;
    const V = model.cfg.vocabSize, H = model.cfg.hiddenSize;
    const chunkRows = Math.max(1, Math.min(M, Math.floor(rt.gpu.maxStorageBindingBytes / (V * 4))));
    const { hF, rstdF } = model.finalNorm(x, M);
    const logits = rt.empty([chunkRows, V], 'f32', 'logits');
    for (let r0 = 0; r0 < M; r0 += chunkRows) {
      const rows = Math.min(chunkRows, M - r0);
      for (const part of model.lmHead.parts) {
        matmul(rt, 'nt', rows, part.rows, H, { t: hF, ld: H, offset: r0 * H }, { t: part.tensor, ld: H }, { t: logits, ld: V, offset: part.rowStart });
      }
      onLogits(logits, r0, rows);
    }
    logits.dispose();
    hF.dispose();
    rstdF.dispose();
  }

  dispose(): void {
    for (const t of [...this.kCache.flat(), ...this.vCache.flat()]) t.dispose();
  }
}

/** Receives logits [>= rows, V] for rows rowStart .. rowStart+rows-1 of the pass. */
export type LogitsConsumer = (logits: Tensor, rowStart: number, rows: number) => void;

/** The sequences of each distinct prompt, in order of first appearance (each group in sequence order). */
export function samePromptGroups(prompts: readonly Int32Array[]): number[][] {
  const byPrompt = new Map<string, number[]>();
  prompts.forEach((p, b) => {
    const key = p.join(',');
    const group = byPrompt.get(key);
    if (group) group.push(b);
    else byPrompt.set(key, [b]);
  });
  return [...byPrompt.values()];
}

/**
 * Slots per part of one layer's K (or V) cache: as many whole slots as `limitBytes` (a storage
 * binding, and a buffer) holds, the last part the rest; `slotsPerPart` asks for fewer. A single
 * sequence that does not fit is refused here, with the sizes.
 */
export function kvCacheParts(slots: number, maxLen: number, kvDim: number, cacheDtype: KvCacheDtype, limitBytes: number, slotsPerPart?: number): number[] {
  if (!(Number.isInteger(slots) && slots >= 1)) throw new Error(`a KV cache needs at least one slot, got ${slots}`);
  const perSlot = kvCacheBytesPerTensor(1, maxLen, kvDim, cacheDtype);
  if (perSlot > limitBytes) {
    throw new Error(
      `KV cache of one sequence of ${maxLen} positions needs ${sizeText(perSlot)} per layer tensor, ` +
        `more than one storage binding holds on this adapter (${sizeText(limitBytes)}); lower the prompt length or max new tokens`,
    );
  }
  const most = Math.floor(limitBytes / perSlot);
  if (slotsPerPart !== undefined && !(Number.isInteger(slotsPerPart) && slotsPerPart >= 1)) throw new Error(`slotsPerPart must be a whole number >= 1, got ${slotsPerPart}`);
  const per = Math.min(slots, most, slotsPerPart ?? most);
  return Array.from({ length: Math.ceil(slots / per) }, (_, i) => Math.min(per, slots - i * per));
}

function sizeText(bytes: number): string {
  return bytes >= MiB ? `${(bytes / MiB).toFixed(1)} MiB` : `${bytes} bytes`;
}

export function kvCacheBytesPerTensor(slots: number, maxLen: number, kvDim: number, cacheDtype: KvCacheDtype = 'f32'): number {
  return slots * maxLen * kvDim * kvCacheValueBytes(cacheDtype);
}
