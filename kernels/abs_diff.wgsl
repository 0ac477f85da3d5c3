// out[i] = |a[i] - b[i]|   (e.g. the gap between sampler and trainer log-probs)
// Grid: ceil(n / 256) workgroups, 2-D when above the per-dimension limit.
struct Params { n: u32, rowStride: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * p.rowStride;
  if (i < p.n) { out[i] = abs(a[i] - b[i]); }
}
