// One AdamW step (torch.optim.AdamW, amsgrad off), elementwise over a parameter tensor:
//   g = grad * (useScale != 0 ? gradScale[0] : 1)          (gradient clipping without a readback)
//   m = m + (1 - beta1) * (g - m)                           (torch's lerp_)
//   v = beta2 * v + (1 - beta2) * g * g
//   param -= lrWd * param + stepSize * m / (sqrt(v) / bc2Sqrt + eps)
//        lrWd = lr * weightDecay, stepSize = lr / (1 - beta1^step), bc2Sqrt = sqrt(1 - beta2^step)
// The decay and the Adam step are one change, rounded once: at the paper's lr 1.5e-6 and wd 0.01
// the decay alone (1.5e-8 of a weight) is below half an f32 ulp, so decaying first (torch's
// param *= 1 - lr * wd) rounds it away on every step, while in the sum it survives.
// The bias corrections are computed in float64 on the CPU. param, grad, m, v: [n];
// gradScale: [1] (when useScale == 0 any read-only buffer, e.g. grad itself).
// Grid: ceil(n / 256) workgroups, 2-D when above the per-dimension limit (rowStride = x extent * 256).
struct Params { n: u32, rowStride: u32, useScale: u32, lrWd: f32, beta1: f32, beta2: f32, eps: f32, stepSize: f32, bc2Sqrt: f32 }
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
  let mi = m[i] + (1.0 - p.beta1) * (g - m[i]);
  let vi = p.beta2 * v[i] + (1.0 - p.beta2) * g * g;
  m[i] = mi;
  v[i] = vi;
  let w = param[i];
  param[i] = w - (p.lrWd * w + p.stepSize * mi / (sqrt(vi) / p.bc2Sqrt + p.eps));
}
