// The KV cache side of generation: appending the new tokens' k/v rows to the
// cache, and attention of one query token per sequence against its cached keys.
//
// KV cache layout: per layer K and V tensors [slots, maxLen, Hkv, D], split by slots into parts
// that each fit a storage binding (KvSession); cache slot s holds one sequence, its token at
// position p at [s, p]. The ops below work on one part, which holds slots slotBase ..
// slotBase + its slots - 1, and leave the rows of the other slots to the other parts' calls. An 'f32' cache is an f32
// tensor of that shape; an 'f16' cache a u32 tensor of half as many words, two values a word
// (element 2w in the low half of word w), which halves generation's largest allocation.
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';

/** Threads per workgroup of attention_decode.wgsl (its WG override). */
const DECODE_WG = 128;
/** attention_decode.wgsl keeps at most this many output dims per thread (MAX_DIMS). */
const DECODE_MAX_DIMS = 8;
/** attention_decode_cpu.wgsl: its MAX_DIMS (the longest head it holds in registers) and invocations per workgroup. */
const DECODE_CPU_MAX_DIMS = 256;
const DECODE_CPU_LANES = 32;

/**
 * Two kernels compute decode attention: 'gpu' (attention_decode.wgsl) spreads a
 * (row, head) over a workgroup of 128 threads; 'cpu' (attention_decode_cpu.wgsl)
 * gives it one invocation and no barriers, for CPU adapters (lavapipe), where the
 * 'gpu' kernel's barriers cost more than its arithmetic. 'auto' picks by adapter.
 */
export type DecodeAttentionVariant = 'auto' | 'cpu' | 'gpu';

/** Precision of the KV cache's values: 'f16' stores k and v rounded to half precision (clamped to +-65504). */
export type KvCacheDtype = 'f32' | 'f16';
export const KV_CACHE_DTYPES: readonly KvCacheDtype[] = ['f32', 'f16'];

/** Bytes a cached value takes. */
export function kvCacheValueBytes(dtype: KvCacheDtype): number {
  return dtype === 'f16' ? 2 : 4;
}

function requireSize(op: string, name: string, t: Tensor, elements: number): void {
  if (t.size < elements) throw new Error(`${op}: '${name}' (${t.label}) holds ${t.size} elements, needs ${elements}`);
}

function cacheSlots(op: string, kCache: Tensor, vCache: Tensor, maxLen: number, rowWidth: number, dtype: KvCacheDtype): number {
  if (dtype === 'f16' && rowWidth % 2 !== 0) throw new Error(`${op}: an f16 cache packs two values a word, so Hkv * D must be even, got ${rowWidth}`);
  const wantDtype = dtype === 'f16' ? 'u32' : 'f32';
  if (kCache.dtype !== wantDtype || vCache.dtype !== wantDtype) {
    throw new Error(`${op}: an ${dtype} cache is held in ${wantDtype} tensors, got ${kCache.dtype} and ${vCache.dtype}`);
  }
  const perSlot = (maxLen * rowWidth) / (dtype === 'f16' ? 2 : 1); // words
  if (kCache.size !== vCache.size || kCache.size % perSlot !== 0) {
    throw new Error(`${op}: ${dtype} caches of ${kCache.size} and ${vCache.size} words are not [slots, ${maxLen}, ${rowWidth}]`);
  }
  return kCache.size / perSlot;
}

/**
 * Appends the k/v rows of M decoding (or prefill) tokens to one part of the cache (slots
 * slotBase ..): token i goes to slot slots[i], position positions[i]. Tokens of another part's
 * slots, or with a position out of range (and slot -1 for padding rows), are skipped.
 */
export function kvAppend(
  rt: Runtime, k: Tensor /* [M, Hkv*D] */, v: Tensor, kCache: Tensor, vCache: Tensor,
  slots: Tensor /* i32 [M] */, positions: Tensor /* i32 [M] */, M: number, maxLen: number, Hkv: number, D: number,
  cacheDtype: KvCacheDtype = 'f32', slotBase = 0,
): void {
  if (M === 0) return;
  const rowWidth = Hkv * D;
  requireSize('kvAppend', 'k', k, M * rowWidth);
  requireSize('kvAppend', 'v', v, M * rowWidth);
  requireSize('kvAppend', 'slots', slots, M);
  requireSize('kvAppend', 'positions', positions, M);
  const nSlots = cacheSlots('kvAppend', kCache, vCache, maxLen, rowWidth, cacheDtype);
  const half = cacheDtype === 'f16' ? 1 : 0;
  const groups = rt.grid(Math.ceil((M * (rowWidth >> half)) / 256));
  rt.dispatch(
    rt.kernel('kv_append', 'main', { KV_HALF: half }),
    { k, v, kCache, vCache, slots, positions },
    { M, rowWidth, maxLen, nSlots, rowStride: groups[0] * 256, slotBase },
    groups,
  );
}

export interface DecodeAttentionShape {
  M: number;
  maxLen: number;
  Hq: number;
  Hkv: number;
  D: number;
  scale: number;
  /** Which kernel runs (default 'auto'). */
  variant?: DecodeAttentionVariant;
  /** Precision of the caches (default 'f32'). */
  cacheDtype?: KvCacheDtype;
  /** The first slot the given cache part holds (default 0: the whole cache). */
  slotBase?: number;
}

/**
 * One query token per row i (M rows), attending causally to
 * cache[slots[i], 0..positions[i]] inclusive (the current token's k/v were
 * appended before). GQA: query head h uses kv head floor(h / (Hq / Hkv)).
 * Padding rows (slot < 0, or a position out of range) get zeros; rows whose slot another part
 * holds are left as they are, for that part's call to write. So a row whose slot no part holds
 * (past the cache) is written by no call: the caller keeps slots inside the cache (KvSession checks).
 */
export function attentionDecode(
  rt: Runtime, q: Tensor /* [M, Hq*D] */, kCache: Tensor, vCache: Tensor, slots: Tensor, positions: Tensor,
  out: Tensor /* [M, Hq*D] */, s: DecodeAttentionShape,
): void {
  const { M, maxLen, Hq, Hkv, D, scale } = s;
  if (M === 0) return;
  if (Hkv < 1 || Hq % Hkv !== 0) throw new Error(`attentionDecode: Hq ${Hq} is not a multiple of Hkv ${Hkv}`);
  if (D > DECODE_WG * DECODE_MAX_DIMS) throw new Error(`attentionDecode: head_dim ${D} above ${DECODE_WG * DECODE_MAX_DIMS}`);
  requireSize('attentionDecode', 'q', q, M * Hq * D);
  requireSize('attentionDecode', 'out', out, M * Hq * D);
  requireSize('attentionDecode', 'slots', slots, M);
  requireSize('attentionDecode', 'positions', positions, M);
  const cacheDtype = s.cacheDtype ?? 'f32';
  const nSlots = cacheSlots('attentionDecode', kCache, vCache, maxLen, Hkv * D, cacheDtype);
  const KV_HALF = cacheDtype === 'f16' ? 1 : 0;
  const variant = s.variant ?? 'auto';
  const useCpu = variant === 'cpu' || (variant === 'auto' && rt.gpu.isCpuAdapter && D <= DECODE_CPU_MAX_DIMS);
  const params = { M, Hq, Hkv, maxLen, nSlots, rowStride: 0, scale, slotBase: s.slotBase ?? 0 };
  const bindings = { q, kCache, vCache, slots, positions, out };
  if (useCpu) {
    if (D > DECODE_CPU_MAX_DIMS) throw new Error(`attentionDecode: the 'cpu' kernel holds head_dim up to ${DECODE_CPU_MAX_DIMS}, got ${D}`);
    const kernel = rt.kernel('attention_decode_cpu', 'main', { KV_HALF, HEAD_DIM: D, LANES: DECODE_CPU_LANES });
    const grid = rt.grid(Math.ceil((M * Hq) / DECODE_CPU_LANES));
    rt.dispatch(kernel, bindings, { ...params, rowStride: grid[0] }, grid);
    return;
  }
  const groupsOfThreads = D <= DECODE_WG ? Math.floor(DECODE_WG / D) : 1;
  const kernel = rt.kernel('attention_decode', 'main', {
    KV_HALF,
    WG: DECODE_WG,
    HEAD_DIM: D,
    GROUPS: groupsOfThreads,
    DIMS_PER_THREAD: Math.ceil(D / DECODE_WG),
    ACC_SIZE: groupsOfThreads * D,
  });
  const grid = rt.grid(M * Hq);
  rt.dispatch(kernel, bindings, { ...params, rowStride: grid[0] }, grid);
}
