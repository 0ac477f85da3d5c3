// Row-wise log-softmax statistics of one chunk of LM-head logits.
//   logits    [rows, V]  the chunk's logits (row r is token rowBase + r)
//   targets   i32 [N]    target token per token; outside [0, V) gives logprob 0
//   lse       [N]        lse[n] = logsumexp(logits[n, :])
//   logprobs  [N]        logprobs[n] = logits[n, targets[n]] - lse[n]
//   entropy   [N]        entropy[n] = lse[n] - sum_v softmax[n, v] * logits[n, v]
//                        (written only when withEntropy != 0; otherwise any 1-element buffer)
// Each row is reduced by a fixed tree of TREE = 256 virtual lanes: virtual lane l visits
// v = l, l + 256, ... in order, then lanes pair up at strides 128, 64, ..., 1; first the
// max, then sum(exp(x - max)) and sum(exp(x - max) * (x - max)). WG real lanes (a power of
// two, override) share a row: real lane t holds virtual lanes t, t + WG, ..., combines
// the strides >= WG itself and the rest through workgroup memory. So every WG gives the
// same bits: 256 (GPUs, one barrier per stride) or 1 (CPU adapters, whose barriers are
// costly, with ROWS rows per workgroup instead).
// The entropy uses the max-shifted logits, H = log(s) - sum(e * (x - max)) / s, so no large
// logits cancel.
// Grid: ceil(rows / ROWS) workgroups laid out 2-D; row = (wid.x + wid.y * rowStride) * ROWS + lid.y.
struct Params { V: u32, rowBase: u32, rows: u32, rowStride: u32, withEntropy: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<i32>;
@group(0) @binding(3) var<storage, read_write> lse: array<f32>;
@group(0) @binding(4) var<storage, read_write> logprobs: array<f32>;
@group(0) @binding(5) var<storage, read_write> entropy: array<f32>;

const TREE = 256u;
override WG: u32 = 256u;
override ROWS: u32 = 1u;
const LANE_VALUES = 256u; // TREE / WG for WG = 1, the most a real lane holds
var<workgroup> redA: array<f32, WG * ROWS>;
var<workgroup> redB: array<f32, WG * ROWS>;

@compute @workgroup_size(WG, ROWS)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let block = wid.x + wid.y * p.rowStride;
  if (block * ROWS >= p.rows) { return; } // uniform over the workgroup
  let r = block * ROWS + lid.y;
  // rows past the end (last block) take part in the barriers but read nothing
  let V = select(0u, p.V, r < p.rows);
  let base = r * p.V;
  let slot = lid.y * WG;
  let held = TREE / WG; // virtual lanes lid.x + j * WG, j < held
  var a: array<f32, LANE_VALUES>;
  var b: array<f32, LANE_VALUES>;

  for (var j = 0u; j < held; j++) {
    var m = -3.0e38;
    for (var v = lid.x + j * WG; v < V; v += TREE) { m = max(m, logits[base + v]); }
    a[j] = m;
  }
  for (var s = TREE / 2u; s >= WG; s >>= 1u) {
    for (var j = 0u; j < s / WG; j++) { a[j] = max(a[j], a[j + s / WG]); }
  }
  redA[slot + lid.x] = a[0];
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid.x < s) { redA[slot + lid.x] = max(redA[slot + lid.x], redA[slot + lid.x + s]); }
    workgroupBarrier();
  }
  let rowMax = redA[slot];
  workgroupBarrier(); // everyone has read redA[slot] before it is reused

  for (var j = 0u; j < held; j++) {
    var sumE = 0.0;
    var sumEX = 0.0;
    for (var v = lid.x + j * WG; v < V; v += TREE) {
      let x = logits[base + v] - rowMax;
      let e = exp(x);
      sumE += e;
      sumEX += e * x;
    }
    a[j] = sumE;
    b[j] = sumEX;
  }
  for (var s = TREE / 2u; s >= WG; s >>= 1u) {
    for (var j = 0u; j < s / WG; j++) {
      a[j] += a[j + s / WG];
      b[j] += b[j + s / WG];
    }
  }
  redA[slot + lid.x] = a[0];
  redB[slot + lid.x] = b[0];
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid.x < s) {
      redA[slot + lid.x] += redA[slot + lid.x + s];
      redB[slot + lid.x] += redB[slot + lid.x + s];
    }
    workgroupBarrier();
  }

  if (lid.x == 0u && r < p.rows) {
    let n = p.rowBase + r;
    let sumE = redA[slot];
    let logS = log(sumE);
    let rowLse = rowMax + logS;
    lse[n] = rowLse;
    let t = targets[n];
    var lp = 0.0;
    if (t >= 0 && u32(t) < p.V) { lp = logits[base + u32(t)] - rowLse; }
    logprobs[n] = lp;
    if (p.withEntropy != 0u) { entropy[n] = logS - redB[slot] / sumE; }
  }
}
