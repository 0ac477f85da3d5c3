// Row-wise log-softmax statistics of one chunk of LM-head logits.
//   logits    [rows, V]  the chunk's logits (row r is token rowBase + r)
//   targets   i32 [N]    target token per token; outside [0, V) gives logprob 0
//   lse       [N]        lse[n] = logsumexp(logits[n, :])
//   logprobs  [N]        logprobs[n] = logits[n, targets[n]] - lse[n]
//   entropy   [N]        entropy[n] = lse[n] - sum_v softmax[n, v] * logits[n, v]
//                        (written only when withEntropy != 0; otherwise any 1-element buffer)
// One workgroup per row (2-D grid of `rows` workgroups, x extent = rowStride); each lane
// strides over V, then a workgroup tree reduction: first the max, then sum(exp(x - max))
// and sum(exp(x - max) * (x - max)). The entropy uses the max-shifted logits,
// H = log(s) - sum(e * (x - max)) / s, so no large logits cancel.
struct Params { V: u32, rowBase: u32, rows: u32, rowStride: u32, withEntropy: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<i32>;
@group(0) @binding(3) var<storage, read_write> lse: array<f32>;
@group(0) @binding(4) var<storage, read_write> logprobs: array<f32>;
@group(0) @binding(5) var<storage, read_write> entropy: array<f32>;

const WG = 256u;
var<workgroup> redA: array<f32, 256>;
var<workgroup> redB: array<f32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let r = wid.x + wid.y * p.rowStride;
  if (r >= p.rows) { return; } // uniform over the workgroup
  let base = r * p.V;

  var m = -3.0e38;
  for (var v = lid; v < p.V; v += WG) { m = max(m, logits[base + v]); }
  redA[lid] = m;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { redA[lid] = max(redA[lid], redA[lid + s]); }
    workgroupBarrier();
  }
  let rowMax = redA[0];
  workgroupBarrier(); // everyone has read redA[0] before it is reused

  var sumE = 0.0;
  var sumEX = 0.0;
  for (var v = lid; v < p.V; v += WG) {
    let x = logits[base + v] - rowMax;
    let e = exp(x);
    sumE += e;
    sumEX += e * x;
  }
  redA[lid] = sumE;
  redB[lid] = sumEX;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) {
      redA[lid] += redA[lid + s];
      redB[lid] += redB[lid + s];
    }
    workgroupBarrier();
  }

  if (lid == 0u) {
    let n = p.rowBase + r;
    let logS = log(redA[0]);
    let rowLse = rowMax + logS;
    lse[n] = rowLse;
    let t = targets[n];
    var lp = 0.0;
    if (t >= 0 && u32(t) < p.V) { lp = logits[base + u32(t)] - rowLse; }
    logprobs[n] = lp;
    if (p.withEntropy != 0u) { entropy[n] = logS - redB[0] / redA[0]; }
  }
}
