// Attention backward for CPU adapters (lavapipe), step 1: dQ and delta, per
// query row, looping over the row's causal keys.
// With P_ij = exp(scale * q_i.k_j - lse_i) (0 where key j > query i),
// delta_i = dOut_i.out_i (= sum_j P_ij dP_ij) and dS_ij = P_ij (dOut_i.v_j - delta_i):
//   dQ_i = scale * sum_j dS_ij k_j
// delta is written for step 2 (attention_cpu_backward_dkdv.wgsl).
//
// Bindings (token-major, token n = b*T + t; head dim D <= MAX_D):
//   q, out, dOut [B*T, Hq, D] read;  k, v [B*T, Hkv, D] read;
//   lse [B*T, Hq] read (from the forward);
//   delta [B*T, Hq] write;  dq [B*T, Hq, D] write (overwritten).
// Query head h reads kv head h / (Hq / Hkv).
//
// Grid and lanes as in attention_cpu_forward.wgsl, which says why the kernel
// looks like this: each invocation owns ROWS consecutive query rows of one
// head; B * Hq * ceil(T / (ROWS * WG)) workgroups, 2-D (gridX = workgroups in
// x), longest rows first. Each lane keeps its q and dOut rows and dQ
// accumulators in registers; K and V rows reach all lanes of a subgroup
// through one load per lane and subgroupShuffle; keys run to the subgroup's
// last query in chunks of KC.
// Every `var` in a loop is explicitly initialized (see the forward).
enable subgroups;
diagnostic(off, subgroup_uniformity); // key loops are bounded by subgroupMax results

override WG: u32 = 16u;
const ROWS = 2u;
const MAX_D = 256u;
const KC = 8u;

struct Params { T: u32, B: u32, Hq: u32, Hkv: u32, D: u32, gridX: u32, scale: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read> out: array<f32>;
@group(0) @binding(5) var<storage, read> dOut: array<f32>;
@group(0) @binding(6) var<storage, read> lse: array<f32>;
@group(0) @binding(7) var<storage, read_write> delta: array<f32>;
@group(0) @binding(8) var<storage, read_write> dq: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32,
        @builtin(subgroup_invocation_id) sl: u32, @builtin(subgroup_size) sg: u32) {
  let D = p.D;
  let blocks = (p.T + ROWS * WG - 1u) / (ROWS * WG);
  let w = wg.x + wg.y * p.gridX;
  if (w >= blocks * p.B * p.Hq) { return; } // uniform: padding of the 2-D grid
  let h = w % p.Hq;
  let seq = ((w / p.Hq) % p.B) * p.T;
  let first = (blocks - 1u - w / (p.Hq * p.B)) * ROWS * WG + ROWS * li;
  var t = array<u32, ROWS>(); // rows past the end work on query 0 and store nothing
  var lastT = 0u;
  for (var r = 0u; r < ROWS; r++) {
    t[r] = select(0u, first + r, first + r < p.T);
    lastT = max(lastT, t[r]);
  }
  let kEnd = subgroupMax(lastT) + 1u;
  let kvStride = p.Hkv * D;
  let kvBase = (seq * p.Hkv + h / (p.Hq / p.Hkv)) * D;

  var qr = array<array<f32, MAX_D>, ROWS>();
  var dor = array<array<f32, MAX_D>, ROWS>();
  var rowDelta = array<f32, ROWS>();
  var rowLse = array<f32, ROWS>();
  for (var r = 0u; r < ROWS; r++) {
    let stat = (seq + t[r]) * p.Hq + h;
    var dl = 0.0;
    for (var d = 0u; d < D; d++) {
      qr[r][d] = q[stat * D + d];
      dor[r][d] = dOut[stat * D + d];
      dl = fma(dor[r][d], out[stat * D + d], dl);
    }
    rowDelta[r] = dl;
    rowLse[r] = lse[stat];
  }
  var acc = array<array<f32, MAX_D>, ROWS>();
  for (var k0 = 0u; k0 < kEnd; k0 += KC) {
    // q.k_j and dOut.v_j for keys k0 .. k0 + KC - 1 (clamped to kEnd - 1, masked below).
    var s = array<array<f32, KC>, ROWS>();
    var dp = array<array<f32, KC>, ROWS>();
    for (var d0 = 0u; d0 < D; d0 += sg) {
      let dl = min(d0 + sl, D - 1u);
      var ks = array<f32, KC>();
      var vs = array<f32, KC>();
      for (var c = 0u; c < KC; c++) {
        let at = kvBase + min(k0 + c, kEnd - 1u) * kvStride + dl;
        ks[c] = k[at];
        vs[c] = v[at];
      }
      for (var j = 0u; j < sg; j++) {
        if (d0 + j < D) {
          var qv = array<f32, ROWS>();
          var ov = array<f32, ROWS>();
          for (var r = 0u; r < ROWS; r++) {
            qv[r] = qr[r][d0 + j];
            ov[r] = dor[r][d0 + j];
          }
          for (var c = 0u; c < KC; c++) {
            let kj = subgroupShuffle(ks[c], j);
            let vj = subgroupShuffle(vs[c], j);
            for (var r = 0u; r < ROWS; r++) {
              s[r][c] = fma(qv[r], kj, s[r][c]);
              dp[r][c] = fma(ov[r], vj, dp[r][c]);
            }
          }
        }
      }
    }
    var ds = array<array<f32, KC>, ROWS>();
    for (var r = 0u; r < ROWS; r++) {
      for (var c = 0u; c < KC; c++) {
        // Masked keys may score anything: select drops their exp before it is used.
        let pr = select(0.0, exp(p.scale * s[r][c] - rowLse[r]), k0 + c <= t[r]);
        ds[r][c] = pr * (dp[r][c] - rowDelta[r]);
      }
    }
    for (var d0 = 0u; d0 < D; d0 += sg) {
      let dl = min(d0 + sl, D - 1u);
      var ks = array<f32, KC>();
      for (var c = 0u; c < KC; c++) { ks[c] = k[kvBase + min(k0 + c, kEnd - 1u) * kvStride + dl]; }
      for (var j = 0u; j < sg; j++) {
        if (d0 + j < D) {
          var a = array<f32, ROWS>();
          for (var r = 0u; r < ROWS; r++) { a[r] = acc[r][d0 + j]; }
          for (var c = 0u; c < KC; c++) {
            let kj = subgroupShuffle(ks[c], j);
            for (var r = 0u; r < ROWS; r++) { a[r] = fma(ds[r][c], kj, a[r]); }
          }
          for (var r = 0u; r < ROWS; r++) { acc[r][d0 + j] = a[r]; }
        }
      }
    }
  }
  for (var r = 0u; r < ROWS; r++) {
    if (first + r < p.T) {
      let stat = (seq + t[r]) * p.Hq + h;
      delta[stat] = rowDelta[r];
      for (var d = 0u; d < D; d++) { dq[stat * D + d] = p.scale * acc[r][d]; }
    }
  }
}
