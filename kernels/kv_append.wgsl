// Appends the k and v rows of M tokens (decode: one per sequence; prefill: many)
// to the KV cache of one layer.
//   k, v            [M, Hkv * D]                read
//   kCache, vCache  [slots, maxLen, Hkv, D]     read_write
//   slots, positions  i32 [M]: token i goes to cache[slots[i], positions[i]];
//                     a token whose slot or position is out of range is skipped
//                     (so padding rows can carry slot -1)
// One invocation per element of k (and the same element of v): e = i * rowWidth + j,
// rowWidth = Hkv * D. Grid: ceil(M * rowWidth / 256) workgroups, 2-D when above
// the per-dimension limit (rowStride = workgroups in x * 256).
struct Params { M: u32, rowWidth: u32, maxLen: u32, nSlots: u32, rowStride: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> k: array<f32>;
@group(0) @binding(2) var<storage, read> v: array<f32>;
@group(0) @binding(3) var<storage, read> slots: array<i32>;
@group(0) @binding(4) var<storage, read> positions: array<i32>;
@group(0) @binding(5) var<storage, read_write> kCache: array<f32>;
@group(0) @binding(6) var<storage, read_write> vCache: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let e = gid.x + gid.y * p.rowStride;
  if (e >= p.M * p.rowWidth) { return; }
  let i = e / p.rowWidth;
  let j = e % p.rowWidth;
  let s = slots[i];
  let t = positions[i];
  if (s < 0 || u32(s) >= p.nSlots || t < 0 || u32(t) >= p.maxLen) { return; }
  let dst = (u32(s) * p.maxLen + u32(t)) * p.rowWidth + j;
  kCache[dst] = k[e];
  vCache[dst] = v[e];
}
