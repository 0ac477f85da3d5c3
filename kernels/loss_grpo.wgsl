// GRPO loss (clipped policy gradient + a KL estimate to the reference policy), its gradient
// with respect to the current log-probs, and metric sums. Per token n with A = advantages[n]:
//   ratio = exp(clamp(lp - old, -20, 20))                       (verl's clamp; no gradient outside)
//   pg1   = max(-A * ratio, -A * clamp(ratio, 1 - eps, 1 + eps))
//   pg    = A < 0 and clipC > 0: min(pg1, -A * clipC)          (verl's dual clip, clip_ratio_c)
//           else pg1
//   kl    = klKind 3 (k3, verl's "low_var_kl", the default):
//             d = clamp(ref - lp, -20, 20), kl = min(exp(d) - d - 1, 10),
//             dkl = 1 - exp(d) where neither clamp binds (|ref - lp| <= 20 and
//             exp(d) - d - 1 <= 10), else 0
//           klKind 1 (k1, verl's "kl"):  kl = lp - ref,             dkl = 1
//           klKind 2 (k2, verl's "mse"): kl = 0.5 * (lp - ref)^2,   dkl = lp - ref
//   loss[0]      = sum((pg + klCoef * kl) * w) * invCount
//   dLogprobs[n] = w * invCount * (dpg + klCoef * dkl)
// w = mask[n] is each token's weight in the loss: 1 or 0 for verl's token-mean, 1 / (its
// sequence's length) for seq-mean-token-mean (the caller's invCount then 1 / sequences).
// k3's clamps keep a token the policy has pushed far below the reference (ref - lp > ~2.6)
// from dominating a step's gradient.
// dpg follows PyTorch autograd of torch.maximum and torch.clamp: the larger branch gets the
// whole gradient, a tie splits it half and half, and clamp passes the gradient where
// 1 - eps <= ratio <= 1 + eps (bounds included). Inside the clip range both branches are the
// same number, so the halves add up to -A * ratio; where the clipped branch is strictly
// larger (ratio > 1 + eps with A > 0, ratio < 1 - eps with A < 0) the gradient is zero. The dual
// clip is torch.min against a constant: where the constant is strictly smaller (ratio > clipC with
// A < 0, a token whose probability an earlier update of the same batch already raised clipC-fold)
// the gradient is zero, at a tie it is halved. With one update per batch the ratio is 1 and
// neither the dual clip nor the clamp of lp - old ever binds.
//   stats [4] = sums over the tokens with w != 0 (unweighted) of: clipped indicator (clipped
//               branch strictly larger), kl, ratio, pg
// Inputs: logprobs, oldLogprobs, refLogprobs, advantages, mask: [N]. clipC = 0 turns the dual
// clip off.
// One workgroup of 256 lanes, fixed-order tree reduction (deterministic). Grid: [1].
struct Params { N: u32, invCount: f32, clipEps: f32, klCoef: f32, klKind: u32, clipC: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> logprobs: array<f32>;
@group(0) @binding(2) var<storage, read> oldLogprobs: array<f32>;
@group(0) @binding(3) var<storage, read> refLogprobs: array<f32>;
@group(0) @binding(4) var<storage, read> advantages: array<f32>;
@group(0) @binding(5) var<storage, read> mask: array<f32>;
@group(0) @binding(6) var<storage, read_write> loss: array<f32>;
@group(0) @binding(7) var<storage, read_write> dLogprobs: array<f32>;
@group(0) @binding(8) var<storage, read_write> stats: array<f32>;

const WG = 256u;
const LOG_RATIO_MAX = 20.0; // verl's clamp of lp - old
const KL_LOG_RATIO_MAX = 20.0; // verl's clamp of ref - lp
const KL_MAX = 10.0; // verl's clamp of the k3 value (which is >= 0, so only the top binds)
var<workgroup> redLoss: array<f32, 256>;
var<workgroup> redStats: array<vec4<f32>, 256>;

// exp(d) - d - 1 without the cancellation of the direct formula for small |d|
// (Taylor series to d^8; truncation below 1e-7 relative for |d| < 0.5).
fn k3(d: f32) -> f32 {
  if (abs(d) < 0.5) {
    return d * d * (0.5 + d * (1.0 / 6.0 + d * (1.0 / 24.0 + d * (1.0 / 120.0 + d * (1.0 / 720.0 + d * (1.0 / 5040.0 + d * (1.0 / 40320.0)))))));
  }
  return exp(d) - d - 1.0; // |d| <= KL_LOG_RATIO_MAX here
}

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32) {
  let lo = 1.0 - p.clipEps;
  let hi = 1.0 + p.clipEps;
  var accLoss = 0.0;
  var accStats = vec4<f32>(0.0);
  for (var n = lid; n < p.N; n += WG) {
    let m = mask[n];
    if (m == 0.0) { dLogprobs[n] = 0.0; continue; } // padding may hold garbage
    let lp = logprobs[n];
    let A = advantages[n];
    let logRatio = lp - oldLogprobs[n];
    let ratio = exp(clamp(logRatio, -LOG_RATIO_MAX, LOG_RATIO_MAX));
    let clipped = clamp(ratio, lo, hi);
    let a = -A * ratio;
    let b = -A * clipped;
    var pg = max(a, b);
    // d pg / d ratio, PyTorch's maximum/clamp backward
    var wa = 0.5;
    var wb = 0.5;
    if (a > b) { wa = 1.0; wb = 0.0; } else if (b > a) { wa = 0.0; wb = 1.0; }
    var dClamp = 0.0;
    if (ratio >= lo && ratio <= hi) { dClamp = 1.0; }
    var wDual = 1.0; // share of the gradient the dual clip's torch.min passes to pg1
    if (A < 0.0 && p.clipC > 0.0) {
      let c = -A * p.clipC;
      if (c < pg) { wDual = 0.0; } else if (c == pg) { wDual = 0.5; }
      pg = min(pg, c);
    }
    var dRatio = ratio; // d ratio / d lp, zero where the clamp of lp - old binds
    if (abs(logRatio) > LOG_RATIO_MAX) { dRatio = 0.0; }
    let dpg = -A * dRatio * (wa + wb * dClamp) * wDual;

    let dRaw = refLogprobs[n] - lp;
    var kl = 0.0;
    var dkl = 0.0;
    if (p.klKind == 1u) {
      kl = -dRaw;
      dkl = 1.0;
    } else if (p.klKind == 2u) {
      kl = 0.5 * dRaw * dRaw;
      dkl = -dRaw;
    } else {
      let d = clamp(dRaw, -KL_LOG_RATIO_MAX, KL_LOG_RATIO_MAX);
      let klRaw = k3(d);
      kl = min(klRaw, KL_MAX);
      // torch.clamp passes the gradient only inside its bounds (bounds included)
      if (abs(dRaw) <= KL_LOG_RATIO_MAX && klRaw <= KL_MAX) { dkl = 1.0 - exp(d); }
    }

    accLoss += (pg + p.klCoef * kl) * m;
    dLogprobs[n] = m * p.invCount * (dpg + p.klCoef * dkl);
    var isClipped = 0.0;
    if (b > a) { isClipped = 1.0; }
    accStats += vec4<f32>(isClipped, kl, ratio, pg); // counts tokens, not their weights
  }
  redLoss[lid] = accLoss;
  redStats[lid] = accStats;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) {
      redLoss[lid] += redLoss[lid + s];
      redStats[lid] += redStats[lid + s];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    loss[0] = redLoss[0] * p.invCount;
    let t = redStats[0];
    stats[0] = t.x;
    stats[1] = t.y;
    stats[2] = t.z;
    stats[3] = t.w;
  }
}
