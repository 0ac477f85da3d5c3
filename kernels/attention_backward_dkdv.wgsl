// Attention backward, step 2: dK and dV of a block of keys, without atomics.
// With P_ij = exp(scale * q_i.k_j - lse_i) (0 where key j > query i) and
// dS_ij = P_ij (dOut_i.v_j - delta_i):
//   dV_j = sum_i P_ij dOut_i        dK_j = scale * sum_i dS_ij q_i
// where i runs over the queries t >= j of the same sequence and over all Hq/Hkv
// query heads that share kv head hk, so each dK/dV row is written once, by one
// workgroup, in a fixed order (deterministic).
//
// Bindings (token-major, token n = b*T + t):
//   q, dOut [B*T, Hq, D] read;  k, v [B*T, Hkv, D] read;
//   lse, delta [B*T, Hq] read (from the forward pass and step 1);
//   dk, dv [B*T, Hkv, D] write (overwritten; must be distinct buffers).
//
// Grid: (ceil(T / ROWS), Hkv, B). A workgroup owns ROWS consecutive keys of
// one kv head, keeps their K and V rows in workgroup memory, and walks query
// tiles of QUERIES queries from its first key to T - 1, for each query head.
// Threads: ROWS * THREADS_PER_ROW; thread (j, c) computes the (key j, query i)
// pairs i = c, c + THREADS_PER_ROW, ... of a tile, then accumulates dims
// c, c + THREADS_PER_ROW, ... of dK_j and dV_j in registers.
// Tile rows are padded to HEAD_DIM + 1 floats against bank conflicts.
override HEAD_DIM: u32;
override THREADS_PER_ROW: u32;
override ROWS: u32;
override QUERIES: u32;
override STRIDE: u32 = HEAD_DIM + 1u;
override KV_TILE: u32 = ROWS * STRIDE;
override Q_TILE: u32 = QUERIES * STRIDE;
override PAIR_TILE: u32 = ROWS * QUERIES;
const MAX_DIMS_PER_THREAD = 8u;

struct Params { T: u32, Hq: u32, Hkv: u32, scale: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read> dOut: array<f32>;
@group(0) @binding(5) var<storage, read> lse: array<f32>;
@group(0) @binding(6) var<storage, read> delta: array<f32>;
@group(0) @binding(7) var<storage, read_write> dk: array<f32>;
@group(0) @binding(8) var<storage, read_write> dv: array<f32>;

var<workgroup> kTile: array<f32, KV_TILE>;
var<workgroup> vTile: array<f32, KV_TILE>;
var<workgroup> qTile: array<f32, Q_TILE>;
var<workgroup> dOutTile: array<f32, Q_TILE>;
var<workgroup> lseTile: array<f32, QUERIES>;
var<workgroup> deltaTile: array<f32, QUERIES>;
var<workgroup> probs: array<f32, PAIR_TILE>;   // [ROWS keys, QUERIES]
var<workgroup> dScores: array<f32, PAIR_TILE>; // [ROWS keys, QUERIES]

@compute @workgroup_size(ROWS * THREADS_PER_ROW)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let threads = ROWS * THREADS_PER_ROW;
  let k0 = wg.x * ROWS;
  let hk = wg.y;
  let seq = wg.z * p.T; // first token of this sequence
  let group = p.Hq / p.Hkv;
  let j = tid / THREADS_PER_ROW;
  let c = tid % THREADS_PER_ROW;
  let key = k0 + j;

  for (var i = tid; i < ROWS * HEAD_DIM; i += threads) {
    let row = i / HEAD_DIM;
    let d = i % HEAD_DIM;
    var kx = 0.0;
    var vx = 0.0;
    if (k0 + row < p.T) {
      let at = ((seq + k0 + row) * p.Hkv + hk) * HEAD_DIM + d;
      kx = k[at];
      vx = v[at];
    }
    kTile[row * STRIDE + d] = kx;
    vTile[row * STRIDE + d] = vx;
  }

  var accK: array<f32, MAX_DIMS_PER_THREAD>;
  var accV: array<f32, MAX_DIMS_PER_THREAD>;
  for (var g = 0u; g < group; g++) {
    let h = hk * group + g;
    for (var q0 = k0; q0 < p.T; q0 += QUERIES) { // queries before k0 see none of these keys
      workgroupBarrier(); // the previous tile's readers are done
      for (var i = tid; i < QUERIES * HEAD_DIM; i += threads) {
        let row = i / HEAD_DIM;
        let d = i % HEAD_DIM;
        var qx = 0.0;
        var ox = 0.0;
        if (q0 + row < p.T) {
          let at = ((seq + q0 + row) * p.Hq + h) * HEAD_DIM + d;
          qx = q[at];
          ox = dOut[at];
        }
        qTile[row * STRIDE + d] = qx;
        dOutTile[row * STRIDE + d] = ox;
      }
      for (var i = tid; i < QUERIES; i += threads) {
        var l = 0.0;
        var dl = 0.0;
        if (q0 + i < p.T) {
          l = lse[(seq + q0 + i) * p.Hq + h];
          dl = delta[(seq + q0 + i) * p.Hq + h];
        }
        lseTile[i] = l;
        deltaTile[i] = dl;
      }
      workgroupBarrier();

      for (var i = c; i < QUERIES; i += THREADS_PER_ROW) {
        let t = q0 + i;
        var s = 0.0;
        var dp = 0.0;
        for (var d = 0u; d < HEAD_DIM; d++) {
          s += qTile[i * STRIDE + d] * kTile[j * STRIDE + d];
          dp += dOutTile[i * STRIDE + d] * vTile[j * STRIDE + d];
        }
        var pr = 0.0;
        if (key <= t && t < p.T) { pr = exp(p.scale * s - lseTile[i]); }
        probs[j * QUERIES + i] = pr;
        dScores[j * QUERIES + i] = pr * (dp - deltaTile[i]);
      }
      workgroupBarrier();

      for (var i = 0u; i < QUERIES; i++) {
        let pr = probs[j * QUERIES + i];
        let ds = dScores[j * QUERIES + i];
        for (var x = 0u; x < MAX_DIMS_PER_THREAD; x++) {
          let d = c + x * THREADS_PER_ROW;
          if (d < HEAD_DIM) {
            accV[x] += pr * dOutTile[i * STRIDE + d];
            accK[x] += ds * qTile[i * STRIDE + d];
          }
        }
      }
    }
  }

  if (key < p.T) {
    let row = (seq + key) * p.Hkv + hk;
    for (var x = 0u; x < MAX_DIMS_PER_THREAD; x++) {
      let d = c + x * THREADS_PER_ROW;
      if (d < HEAD_DIM) {
        dk[row * HEAD_DIM + d] = p.scale * accK[x];
        dv[row * HEAD_DIM + d] = accV[x];
      }
    }
  }
}
