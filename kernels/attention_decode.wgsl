// Attention of single query tokens against the KV cache (generation): query row i
// attends causally to cache[slots[i], 0 ..= positions[i]] (its own k/v were
// appended before), o = softmax(scale * q k^T) v, online softmax over key chunks.
//   q       [M, Hq * D]               read
//   kCache  [nSlots, maxLen, Hkv, D]  read, as 32-bit words (f32 bits, or with KV_HALF = 1
//   vCache  [nSlots, maxLen, Hkv, D]  read   two f16 a word: kv_append.wgsl's layout); one part
//                                     of a cache split by slots: slots slotBase .. + nSlots - 1
//   slots, positions  i32 [M]         read; a row with slot < 0 or its position out of range
//                                     gets a zero output (padding rows); a row whose slot is
//                                     in another part is left as it is (that part's dispatch
//                                     writes it)
//   out     [M, Hq * D]               write
// GQA: query head h reads kv head h / (Hq / Hkv).
//
// Grid: M * Hq workgroups (2-D when above the per-dimension limit, rowStride =
// workgroups in x); workgroup w serves row w / Hq, head w % Hq, and walks the
// row's keys in chunks of CHUNK = WG * KEYS_PER_THREAD:
//   1. thread t scores keys k0 + t + WG * r, r < KEYS_PER_THREAD (dots over D with
//      q, which sits in workgroup memory);
//   2. a workgroup max gives the new running max and the rescale factor of
//      everything accumulated so far;
//   3. p_j = exp(score_j - max) goes to workgroup memory; each thread keeps its
//      own running sum of p (added up once at the end);
//   4. output: threads form GROUPS groups of min(D, WG) threads; thread (g, c)
//      owns dims c, c + WG, ... (DIMS_PER_THREAD of them) and sums p_j * v_j over
//      the chunk's keys j = g, g + GROUPS, ...  (v reads are contiguous across c).
// At the end the groups' partial outputs are added in workgroup memory.
// Few barriers per key matter on CPU adapters, where each barrier switches
// between all SIMD batches of the workgroup: 4 barriers per CHUNK keys.
// Overrides (set by the host): KV_HALF (1: f16 cache); WG (threads, a power of two); HEAD_DIM = D;
// GROUPS = WG / D when D <= WG, else 1; DIMS_PER_THREAD = ceil(D / WG) (at most
// MAX_DIMS); ACC_SIZE = GROUPS * D.
override KV_HALF: u32 = 0u;
override WG: u32 = 128u;
override HEAD_DIM: u32;
override GROUPS: u32;
override DIMS_PER_THREAD: u32;
override ACC_SIZE: u32;
override SEGMENTS: u32 = max(WG / 16u, 1u); // reductions: segments of WG / SEGMENTS entries
override CHUNK: u32 = WG * KEYS_PER_THREAD;
const KEYS_PER_THREAD = 4u;
const MAX_DIMS = 8u;
const MASKED = -3.0e38; // finite stand-in for -inf (WGSL need not keep Inf)

struct Params { M: u32, Hq: u32, Hkv: u32, maxLen: u32, nSlots: u32, rowStride: u32, scale: f32, slotBase: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> kCache: array<u32>;
@group(0) @binding(3) var<storage, read> vCache: array<u32>;
@group(0) @binding(4) var<storage, read> slots: array<i32>;
@group(0) @binding(5) var<storage, read> positions: array<i32>;
@group(0) @binding(6) var<storage, read_write> out: array<f32>;

// Cache element e (kv_append.wgsl's layout): an f32's bits, or half e & 1 of word e >> 1.
fn kAt(e: u32) -> f32 {
  if (KV_HALF == 1u) { return unpack2x16float(kCache[e >> 1u])[e & 1u]; }
  return bitcast<f32>(kCache[e]);
}
fn vAt(e: u32) -> f32 {
  if (KV_HALF == 1u) { return unpack2x16float(vCache[e >> 1u])[e & 1u]; }
  return bitcast<f32>(vCache[e]);
}

var<workgroup> qs: array<f32, HEAD_DIM>;       // scale * q
var<workgroup> probs: array<f32, CHUNK>;       // exp(score - running max) of the chunk
var<workgroup> red: array<f32, WG>;            // reduction scratch
var<workgroup> redPartial: array<f32, SEGMENTS>;
var<workgroup> partial: array<f32, ACC_SIZE>;  // [GROUPS, D] partial outputs

// Workgroup max / sum in two short stages (SEGMENTS threads fold a segment each,
// then every thread folds the SEGMENTS partials): two barriers, where a tree
// would need log2(WG). Back-to-back calls are safe: `red` is rewritten only
// after the second barrier, `redPartial` only after the next call's first.
fn reduceMax(lid: u32, x: f32) -> f32 {
  red[lid] = x;
  workgroupBarrier();
  if (lid < SEGMENTS) {
    let len = WG / SEGMENTS;
    var m = red[lid * len];
    for (var t = lid * len + 1u; t < (lid + 1u) * len; t++) { m = max(m, red[t]); }
    redPartial[lid] = m;
  }
  workgroupBarrier();
  var m = redPartial[0];
  for (var g = 1u; g < SEGMENTS; g++) { m = max(m, redPartial[g]); }
  return m;
}

fn reduceSum(lid: u32, x: f32) -> f32 {
  red[lid] = x;
  workgroupBarrier();
  if (lid < SEGMENTS) {
    let len = WG / SEGMENTS;
    var s = 0.0;
    for (var t = lid * len; t < (lid + 1u) * len; t++) { s += red[t]; }
    redPartial[lid] = s;
  }
  workgroupBarrier();
  var s = 0.0;
  for (var g = 0u; g < SEGMENTS; g++) { s += redPartial[g]; }
  return s;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let w = wid.x + wid.y * p.rowStride;
  if (w >= p.M * p.Hq) { return; } // uniform over the workgroup
  let i = w / p.Hq;
  let h = w % p.Hq;
  let hk = h / (p.Hq / p.Hkv);
  let qBase = w * HEAD_DIM; // (i * Hq + h) * D
  let slot = slots[i];
  let pos = positions[i];
  if (slot < 0 || pos < 0 || u32(pos) >= p.maxLen) { // a padding row
    for (var d = lid; d < HEAD_DIM; d += WG) { out[qBase + d] = 0.0; }
    return;
  }
  if (u32(slot) < p.slotBase || u32(slot) - p.slotBase >= p.nSlots) { return; } // another part's row (uniform over the workgroup)
  let kvRow = p.Hkv * HEAD_DIM;                                 // values per cache position
  let cacheBase = (u32(slot) - p.slotBase) * p.maxLen * kvRow + hk * HEAD_DIM; // key j at cacheBase + j * kvRow
  let nKeys = u32(pos) + 1u;

  for (var d = lid; d < HEAD_DIM; d += WG) { qs[d] = p.scale * q[qBase + d]; }
  workgroupBarrier();

  let width = min(HEAD_DIM, WG); // threads per output group
  let g = lid / width;
  let c = lid % width;
  var acc: array<f32, MAX_DIMS>;
  var runMax = MASKED;
  var mySum = 0.0;
  for (var k0 = 0u; k0 < nKeys; k0 += CHUNK) {
    var s: array<f32, KEYS_PER_THREAD>;
    var localMax = MASKED;
    for (var r = 0u; r < KEYS_PER_THREAD; r++) {
      let j = k0 + lid + r * WG;
      s[r] = MASKED;
      if (j < nKeys) {
        let kb = cacheBase + j * kvRow;
        var dotQK = 0.0;
        for (var d = 0u; d < HEAD_DIM; d++) { dotQK += qs[d] * kAt(kb + d); }
        s[r] = dotQK;
        localMax = max(localMax, dotQK);
      }
    }
    let newMax = max(runMax, reduceMax(lid, localMax));
    let alpha = exp(runMax - newMax); // 0 on the first chunk (runMax = MASKED)
    mySum *= alpha;
    for (var r = 0u; r < KEYS_PER_THREAD; r++) {
      let jc = lid + r * WG; // index within the chunk
      var pj = 0.0;
      if (k0 + jc < nKeys) { pj = exp(s[r] - newMax); }
      probs[jc] = pj;
      mySum += pj;
    }
    runMax = newMax;
    workgroupBarrier();

    if (g < GROUPS) {
      let chunkLen = min(CHUNK, nKeys - k0);
      for (var r = 0u; r < DIMS_PER_THREAD; r++) {
        let d = c + r * width;
        if (d < HEAD_DIM) {
          var a = 0.0;
          for (var jj = g; jj < chunkLen; jj += GROUPS) { a += probs[jj] * vAt(cacheBase + (k0 + jj) * kvRow + d); }
          acc[r] = acc[r] * alpha + a;
        }
      }
    }
    workgroupBarrier(); // probs is rewritten by the next chunk
  }

  let total = reduceSum(lid, mySum); // >= 1: the row max contributes exp(0)
  if (g < GROUPS) {
    for (var r = 0u; r < DIMS_PER_THREAD; r++) {
      let d = c + r * width;
      if (d < HEAD_DIM) { partial[g * HEAD_DIM + d] = acc[r]; }
    }
  }
  workgroupBarrier();
  for (var d = lid; d < HEAD_DIM; d += WG) {
    var o = 0.0;
    for (var gg = 0u; gg < GROUPS; gg++) { o += partial[gg * HEAD_DIM + d]; }
    out[qBase + d] = o / total;
  }
}
