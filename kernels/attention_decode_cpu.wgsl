// Attention of single query tokens against the KV cache, for CPU adapters: the same
// contract as attention_decode.wgsl (read its header), computed by one invocation per
// (query row, head) with no workgroup memory and no barriers. A CPU adapter runs a
// workgroup's invocations as SIMD batches in a loop and switches between all of them at
// every barrier; attention_decode.wgsl's workgroup of 128 threads per (row, head) spent
// most of that on short contexts (65% of the default job's evaluation kernel time).
// The invocation walks the row's keys in chunks of KEYS: scores into registers, one
// rescale of the running sum and output per chunk (online softmax), then p_j * v_j.
//   q       [M, Hq * D]               read
//   kCache  [nSlots, maxLen, Hkv, D]  read, as 32-bit words (f32 bits, or with KV_HALF = 1
//   vCache  [nSlots, maxLen, Hkv, D]  read   two f16 a word: kv_append.wgsl's layout); one part
//                                     of a cache split by slots: slots slotBase .. + nSlots - 1
//   slots, positions  i32 [M]         read (padding: zero output; another part's row: untouched)
//   out     [M, Hq * D]               write
// Grid: ceil(M * Hq / LANES) workgroups laid out 2-D (rowStride = workgroups in x);
// invocation t of workgroup b serves w = b * LANES + t: row w / Hq, head w % Hq.
// Overrides: KV_HALF (1: f16 cache), HEAD_DIM = D (at most MAX_DIMS), LANES (invocations per workgroup).
override KV_HALF: u32 = 0u;
override HEAD_DIM: u32;
override LANES: u32 = 32u;
const MAX_DIMS = 256u;
const KEYS = 16u;
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

@compute @workgroup_size(LANES)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let w = (wid.x + wid.y * p.rowStride) * LANES + lid;
  if (w >= p.M * p.Hq) { return; } // no barriers below, so lanes may leave alone
  let i = w / p.Hq;
  let h = w % p.Hq;
  let hk = h / (p.Hq / p.Hkv);
  let qBase = w * HEAD_DIM; // (i * Hq + h) * D
  let slot = slots[i];
  let pos = positions[i];
  if (slot < 0 || pos < 0 || u32(pos) >= p.maxLen) { // a padding row
    for (var d = 0u; d < HEAD_DIM; d++) { out[qBase + d] = 0.0; }
    return;
  }
  if (u32(slot) < p.slotBase || u32(slot) - p.slotBase >= p.nSlots) { return; } // another part's row
  let kvRow = p.Hkv * HEAD_DIM;                                 // values per cache position
  let cacheBase = (u32(slot) - p.slotBase) * p.maxLen * kvRow + hk * HEAD_DIM; // key j at cacheBase + j * kvRow
  let nKeys = u32(pos) + 1u;

  var qs: array<f32, MAX_DIMS>;
  for (var d = 0u; d < HEAD_DIM; d++) { qs[d] = p.scale * q[qBase + d]; }
  var acc: array<f32, MAX_DIMS>; // zero-initialised
  var runMax = MASKED;
  var sum = 0.0;
  for (var k0 = 0u; k0 < nKeys; k0 += KEYS) {
    let n = min(KEYS, nKeys - k0);
    var s: array<f32, KEYS>;
    var chunkMax = MASKED;
    for (var r = 0u; r < n; r++) {
      let kb = cacheBase + (k0 + r) * kvRow;
      var dotQK = 0.0;
      for (var d = 0u; d < HEAD_DIM; d++) { dotQK += qs[d] * kAt(kb + d); }
      s[r] = dotQK;
      chunkMax = max(chunkMax, dotQK);
    }
    let newMax = max(runMax, chunkMax);
    let alpha = exp(runMax - newMax); // 0 on the first chunk (runMax = MASKED)
    sum *= alpha;
    for (var d = 0u; d < HEAD_DIM; d++) { acc[d] *= alpha; }
    for (var r = 0u; r < n; r++) {
      let pj = exp(s[r] - newMax);
      sum += pj;
      let vb = cacheBase + (k0 + r) * kvRow;
      for (var d = 0u; d < HEAD_DIM; d++) { acc[d] += pj * vAt(vb + d); }
    }
    runMax = newMax;
  }
  for (var d = 0u; d < HEAD_DIM; d++) { out[qBase + d] = acc[d] / sum; } // sum >= 1: the max contributes exp(0)
}
