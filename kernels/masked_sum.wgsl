// out[slot] += sum_i x[i] * mask[i]: a deterministic single-workgroup reduction
// for per-step metrics (entropy, sampler/trainer log-prob gap) kept on the GPU.
// Grid: 1 workgroup of 256 invocations.
struct Params { n: u32, slot: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> mask: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

var<workgroup> partial: array<f32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32) {
  var s = 0.0;
  for (var i = lid; i < p.n; i += 256u) {
    let m = mask[i];
    if (m != 0.0) { s += x[i] * m; }
  }
  partial[lid] = s;
  workgroupBarrier();
  for (var stride = 128u; stride > 0u; stride >>= 1u) {
    if (lid < stride) { partial[lid] += partial[lid + stride]; }
    workgroupBarrier();
  }
  if (lid == 0u) { out[p.slot] += partial[0]; }
}
