// RMSNorm backward, weight gradient, step 2 of 2: dw[j] += sum_b partial[b, j]
// (blocks summed in a fixed order, so the result is bit-reproducible; dw ACCUMULATES
// so micro-batches add up).
// Bindings: partial [blocks, dim], dw [dim]. Grid: ceil(dim / 64) workgroups.
struct Params { dim: u32, blocks: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> partial: array<f32>;
@group(0) @binding(2) var<storage, read_write> dw: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  if (j >= p.dim) { return; }
  var acc = 0.0;
  for (var b = 0u; b < p.blocks; b++) { acc += partial[b * p.dim + j]; }
  dw[j] = dw[j] + acc;
}
