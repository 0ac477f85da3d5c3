// Gradient of per-token log-probs with respect to one chunk of LM-head logits, in place:
//   dlogits[r, v] = dLogprobs[n] * (onehot(targets[n])[v] - exp(logits[r, v] - lse[n])),  n = rowBase + r
//   dlogits   [rows, V]  holds the chunk's recomputed logits on entry
//   targets   i32 [N], lse [N], dLogprobs [N]
// One invocation per element; grid: ceil(rows * V / 256) workgroups, 2-D when above the
// per-dimension limit (x extent * 256 = rowStride).
struct Params { V: u32, rowBase: u32, count: u32, rowStride: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<i32>;
@group(0) @binding(3) var<storage, read> lse: array<f32>;
@group(0) @binding(4) var<storage, read> dLogprobs: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * p.rowStride;
  if (i >= p.count) { return; }
  let r = i / p.V;
  let v = i - r * p.V;
  let n = p.rowBase + r;
  let g = dLogprobs[n];
  if (g == 0.0) { dlogits[i] = 0.0; return; } // masked token: skip the exp
  var onehot = 0.0;
  if (targets[n] == i32(v)) { onehot = 1.0; }
  dlogits[i] = g * (onehot - exp(dlogits[i] - lse[n]));
}
