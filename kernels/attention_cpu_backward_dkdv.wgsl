// Attention backward for CPU adapters (lavapipe), step 2: dK and dV per key
// row, without atomics.
// With P_ij = exp(scale * q_i.k_j - lse_i) (0 where key j > query i) and
// dS_ij = P_ij (dOut_i.v_j - delta_i):
//   dV_j = sum_i P_ij dOut_i        dK_j = scale * sum_i dS_ij q_i
// where i runs over the queries t >= j of the same sequence and over the
// Hq / Hkv query heads that share kv head hk, in a fixed order (deterministic).
//
// Bindings (token-major, token n = b*T + t; head dim D <= MAX_D):
//   q, dOut [B*T, Hq, D] read;  k, v [B*T, Hkv, D] read;
//   lse, delta [B*T, Hq] read (forward, step 1);
//   dk, dv [B*T, Hkv, D] write (overwritten; must be distinct buffers).
//
// Each invocation owns ROWS consecutive key rows of one kv head; a workgroup
// of WG invocations (a multiple of the subgroup size) owns ROWS * WG keys.
// Grid: B * Hkv * ceil(T / (ROWS * WG)) workgroups, 2-D (gridX = workgroups
// in x); flat workgroup w serves kv head w % Hkv, sequence (w / Hkv) % B and
// key block w / (Hkv * B): the first keys, which see the most queries, go first.
// Each lane keeps its k and v rows and dK, dV accumulators in registers; q
// and dOut rows reach all lanes of a subgroup through one load per lane and
// subgroupShuffle (attention_cpu_forward.wgsl says why); queries run from the
// subgroup's first key (subgroupMin: uniform) to T - 1 in chunks of QC.
// Every `var` in a loop is explicitly initialized (see the forward).
enable subgroups;
diagnostic(off, subgroup_uniformity); // query loops start at subgroupMin results

override WG: u32 = 16u;
const ROWS = 2u;   // key rows per invocation
const MAX_D = 256u;
const QC = 8u;     // queries per chunk

struct Params { T: u32, B: u32, Hq: u32, Hkv: u32, D: u32, gridX: u32, scale: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read> dOut: array<f32>;
@group(0) @binding(5) var<storage, read> lse: array<f32>;
@group(0) @binding(6) var<storage, read> delta: array<f32>;
@group(0) @binding(7) var<storage, read_write> dk: array<f32>;
@group(0) @binding(8) var<storage, read_write> dv: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32,
        @builtin(subgroup_invocation_id) sl: u32, @builtin(subgroup_size) sg: u32) {
  let D = p.D;
  let blocks = (p.T + ROWS * WG - 1u) / (ROWS * WG);
  let w = wg.x + wg.y * p.gridX;
  if (w >= blocks * p.B * p.Hkv) { return; } // uniform: padding of the 2-D grid
  let hk = w % p.Hkv;
  let seq = ((w / p.Hkv) % p.B) * p.T;
  let first = (w / (p.Hkv * p.B)) * ROWS * WG + ROWS * li;
  // Rows past the end work on key T - 1 (the fewest queries) and store nothing.
  var key = array<u32, ROWS>();
  for (var r = 0u; r < ROWS; r++) { key[r] = min(first + r, p.T - 1u); }
  let qStart = subgroupMin(key[0]); // queries before the subgroup's first key see none of its keys
  let group = p.Hq / p.Hkv;
  let qStride = p.Hq * D;

  var kr = array<array<f32, MAX_D>, ROWS>();
  var vr = array<array<f32, MAX_D>, ROWS>();
  for (var r = 0u; r < ROWS; r++) {
    let row = ((seq + key[r]) * p.Hkv + hk) * D;
    for (var d = 0u; d < D; d++) {
      kr[r][d] = k[row + d];
      vr[r][d] = v[row + d];
    }
  }
  var accK = array<array<f32, MAX_D>, ROWS>();
  var accV = array<array<f32, MAX_D>, ROWS>();
  for (var g = 0u; g < group; g++) {
    let h = hk * group + g;
    let qBase = (seq * p.Hq + h) * D; // query i's row of head h starts at qBase + i * qStride
    for (var i0 = qStart; i0 < p.T; i0 += QC) {
      // k_j.q_i and v_j.dOut_i for queries i0 .. i0 + QC - 1 (clamped to T - 1, masked below).
      var s = array<array<f32, QC>, ROWS>();
      var dp = array<array<f32, QC>, ROWS>();
      for (var d0 = 0u; d0 < D; d0 += sg) {
        let dl = min(d0 + sl, D - 1u);
        var qs = array<f32, QC>();
        var os = array<f32, QC>();
        for (var c = 0u; c < QC; c++) {
          let at = qBase + min(i0 + c, p.T - 1u) * qStride + dl;
          qs[c] = q[at];
          os[c] = dOut[at];
        }
        for (var j = 0u; j < sg; j++) {
          if (d0 + j < D) {
            var kv = array<f32, ROWS>();
            var vv = array<f32, ROWS>();
            for (var r = 0u; r < ROWS; r++) {
              kv[r] = kr[r][d0 + j];
              vv[r] = vr[r][d0 + j];
            }
            for (var c = 0u; c < QC; c++) {
              let qj = subgroupShuffle(qs[c], j);
              let oj = subgroupShuffle(os[c], j);
              for (var r = 0u; r < ROWS; r++) {
                s[r][c] = fma(kv[r], qj, s[r][c]);
                dp[r][c] = fma(vv[r], oj, dp[r][c]);
              }
            }
          }
        }
      }
      var pr = array<array<f32, QC>, ROWS>();
      var ds = array<array<f32, QC>, ROWS>();
      for (var c = 0u; c < QC; c++) {
        let i = min(i0 + c, p.T - 1u);
        let stat = (seq + i) * p.Hq + h; // uniform: one scalar load each
        let rowLse = lse[stat];
        let rowDelta = delta[stat];
        for (var r = 0u; r < ROWS; r++) {
          // Masked pairs may score anything: select drops their exp before it is used.
          pr[r][c] = select(0.0, exp(p.scale * s[r][c] - rowLse), key[r] <= i0 + c && i0 + c < p.T);
          ds[r][c] = pr[r][c] * (dp[r][c] - rowDelta);
        }
      }
      for (var d0 = 0u; d0 < D; d0 += sg) {
        let dl = min(d0 + sl, D - 1u);
        var qs = array<f32, QC>();
        var os = array<f32, QC>();
        for (var c = 0u; c < QC; c++) {
          let at = qBase + min(i0 + c, p.T - 1u) * qStride + dl;
          qs[c] = q[at];
          os[c] = dOut[at];
        }
        for (var j = 0u; j < sg; j++) {
          if (d0 + j < D) {
            var ak = array<f32, ROWS>();
            var av = array<f32, ROWS>();
            for (var r = 0u; r < ROWS; r++) {
              ak[r] = accK[r][d0 + j];
              av[r] = accV[r][d0 + j];
            }
            for (var c = 0u; c < QC; c++) {
              let qj = subgroupShuffle(qs[c], j);
              let oj = subgroupShuffle(os[c], j);
              for (var r = 0u; r < ROWS; r++) {
                ak[r] = fma(ds[r][c], qj, ak[r]);
                av[r] = fma(pr[r][c], oj, av[r]);
              }
            }
            for (var r = 0u; r < ROWS; r++) {
              accK[r][d0 + j] = ak[r];
              accV[r][d0 + j] = av[r];
            }
          }
        }
      }
    }
  }
  for (var r = 0u; r < ROWS; r++) {
    if (first + r < p.T) {
      let row = ((seq + key[r]) * p.Hkv + hk) * D;
      for (var d = 0u; d < D; d++) {
        dk[row + d] = p.scale * accK[r][d];
        dv[row + d] = accV[r][d];
      }
    }
  }
}
