// One AdamW step (torch.optim.AdamW, amsgrad off), elementwise over a parameter tensor:
//   g = grad * (useScale != 0 ? gradScale[0] : 1)          (gradient clipping without a readback)
//   param *= decay                                          decay = 1 - lr * weightDecay
//   m = m + (1 - beta1) * (g - m)                           (torch's lerp_)
//   v = beta2 * v + (1 - beta2) * g * g
//   param -= stepSize * m / (sqrt(v) / bc2Sqrt + eps)       stepSize = lr / (1 - beta1^step),
//                                                           bc2Sqrt = sqrt(1 - beta2^step)
// The bias corrections are computed in float64 on the CPU. param, grad, m, v: [n];
// gradScale: [1] (when useScale == 0 any read-only buffer, e.g. grad itself).
// Grid: ceil(n / 256) workgroups, 2-D when above the per-dimension limit (rowStride = x extent * 256).
struct Params { n: u32, rowStride: u32, useScale: u32, decay: f32, beta1: f32, beta2: f32, eps: f32, stepSize: f32, bc2Sqrt: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> param: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> m: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;
@group(0) @binding(5) var<storage, read> gradScale: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * p.rowStride;
  if (i >= p.n) { return; }
  var g = grad[i];
  if (p.useScale != 0u) { g *= gradScale[0]; }
  let w = param[i] * p.decay;
  let mi = m[i] + (1.0 - p.beta1) * (g - m[i]);
  let vi = p.beta2 * v[i] + (1.0 - p.beta2) * g * g;
  m[i] = mi;
  v[i] = vi;
  param[i] = w - p.stepSize * mi / (sqrt(vi) / p.bc2Sqrt + p.eps);
}
