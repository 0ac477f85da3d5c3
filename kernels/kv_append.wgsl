// Appends the k and v rows of M tokens (decode: one per sequence; prefill: many)
// to the KV cache of one layer.
//   k, v            [M, Hkv * D]                read
//   kCache, vCache  [nSlots, maxLen, Hkv, D]    read_write, as 32-bit words: an f32
//                   cache holds each value's bits in a word; an f16 cache (KV_HALF = 1)
//                   two values a word (pack2x16float: element 2w in the low half). The
//                   tensors are one part of a cache split by slots: they hold slots
//                   slotBase .. slotBase + nSlots - 1.
//   slots, positions  i32 [M]: token i goes to slot slots[i], position positions[i];
//                     a token whose slot is not in this part, or whose position is out
//                     of range, is skipped (so padding rows can carry slot -1)
// One invocation per cache word of the M rows: word w = i * rowWords + jw, rowWords =
// Hkv * D >> KV_HALF (D even when KV_HALF = 1). Grid: ceil(M * rowWords / 256)
// workgroups, 2-D when above the per-dimension limit (rowStride = workgroups in x * 256).
// f16 has no infinities to spare for overflow (pack2x16float leaves a value outside its
// range indeterminate), so values are clamped to +-65504 first.
override KV_HALF: u32 = 0u;
const F16_MAX = 65504.0;

struct Params { M: u32, rowWidth: u32, maxLen: u32, nSlots: u32, rowStride: u32, slotBase: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> k: array<f32>;
@group(0) @binding(2) var<storage, read> v: array<f32>;
@group(0) @binding(3) var<storage, read> slots: array<i32>;
@group(0) @binding(4) var<storage, read> positions: array<i32>;
@group(0) @binding(5) var<storage, read_write> kCache: array<u32>;
@group(0) @binding(6) var<storage, read_write> vCache: array<u32>;

fn halves(x: array<f32, 2>) -> u32 {
  return pack2x16float(clamp(vec2<f32>(x[0], x[1]), vec2(-F16_MAX), vec2(F16_MAX)));
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let w = gid.x + gid.y * p.rowStride;
  let rowWords = p.rowWidth >> KV_HALF;
  if (w >= p.M * rowWords) { return; }
  let i = w / rowWords;
  let jw = w % rowWords;
  let s = slots[i];
  let t = positions[i];
  if (s < 0 || u32(s) < p.slotBase || u32(s) - p.slotBase >= p.nSlots || t < 0 || u32(t) >= p.maxLen) { return; }
  let dst = ((u32(s) - p.slotBase) * p.maxLen + u32(t)) * rowWords + jw;
  let e = i * p.rowWidth + (jw << KV_HALF);
  if (KV_HALF == 1u) {
    kCache[dst] = halves(array(k[e], k[e + 1u]));
    vCache[dst] = halves(array(v[e], v[e + 1u]));
  } else {
    kCache[dst] = bitcast<u32>(k[e]);
    vCache[dst] = bitcast<u32>(v[e]);
  }
}
