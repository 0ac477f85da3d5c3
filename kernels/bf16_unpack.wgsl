// out[i] = the bf16 value i of `packed` widened to f32 (exact: bf16 is the top half of an f32).
// Two bf16 values per u32, little-endian: value 2k in the low half of word k, 2k + 1 in the high.
// Grid: ceil(n / 256) workgroups, laid out 2-D when above the per-dimension limit.
struct Params { n: u32, rowStride: u32 }  // rowStride = workgroups in x * 256
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> packed: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * p.rowStride;
  if (i < p.n) {
    let word = packed[i >> 1u];
    let bits = select(word << 16u, word & 0xffff0000u, (i & 1u) == 1u);
    out[i] = bitcast<f32>(bits);
  }
}
