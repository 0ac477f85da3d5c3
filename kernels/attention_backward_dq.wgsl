// Attention backward, step 3: dQ of a block of queries, looping over keys.
// With P_ij = exp(scale * q_i.k_j - lse_i) (0 where key j > query i) and
// dS_ij = P_ij (dOut_i.v_j - delta_i):   dQ_i = scale * sum_j dS_ij k_j
//
// Bindings (token-major, token n = b*T + t):
//   q, dOut [B*T, Hq, D] read;  k, v [B*T, Hkv, D] read;
//   lse, delta [B*T, Hq] read;  dq [B*T, Hq, D] write (overwritten).
// Query head h reads kv head h / (Hq / Hkv).
//
// Grid: (ceil(T / ROWS), Hq, B). A workgroup owns ROWS consecutive queries of
// one head (blocks issued last-first: causal work grows with the query index)
// and walks key tiles of KEYS keys from key 0 up to its last query.
// Threads: ROWS * THREADS_PER_ROW; thread (i, c) computes the (query i, key j)
// pairs j = c, c + THREADS_PER_ROW, ... of a tile, then accumulates dims
// c, c + THREADS_PER_ROW, ... of dQ_i in registers.
// Tile rows are padded to HEAD_DIM + 1 floats against bank conflicts.
override HEAD_DIM: u32;
override THREADS_PER_ROW: u32;
override ROWS: u32;
override KEYS: u32;
override STRIDE: u32 = HEAD_DIM + 1u;
override Q_TILE: u32 = ROWS * STRIDE;
override KV_TILE: u32 = KEYS * STRIDE;
override PAIR_TILE: u32 = ROWS * KEYS;
const MAX_DIMS_PER_THREAD = 8u;

struct Params { T: u32, Hq: u32, Hkv: u32, scale: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read> dOut: array<f32>;
@group(0) @binding(5) var<storage, read> lse: array<f32>;
@group(0) @binding(6) var<storage, read> delta: array<f32>;
@group(0) @binding(7) var<storage, read_write> dq: array<f32>;

var<workgroup> qTile: array<f32, Q_TILE>;
var<workgroup> dOutTile: array<f32, Q_TILE>;
var<workgroup> lseTile: array<f32, ROWS>;
var<workgroup> deltaTile: array<f32, ROWS>;
var<workgroup> kTile: array<f32, KV_TILE>;
var<workgroup> vTile: array<f32, KV_TILE>;
var<workgroup> dScores: array<f32, PAIR_TILE>; // [ROWS queries, KEYS]

@compute @workgroup_size(ROWS * THREADS_PER_ROW)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let threads = ROWS * THREADS_PER_ROW;
  let blocks = (p.T + ROWS - 1u) / ROWS;
  let q0 = (blocks - 1u - wg.x) * ROWS;
  let h = wg.y;
  let seq = wg.z * p.T; // first token of this sequence
  let hk = h / (p.Hq / p.Hkv);
  let i = tid / THREADS_PER_ROW;
  let c = tid % THREADS_PER_ROW;
  let t = q0 + i;

  for (var e = tid; e < ROWS * HEAD_DIM; e += threads) {
    let row = e / HEAD_DIM;
    let d = e % HEAD_DIM;
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
  for (var e = tid; e < ROWS; e += threads) {
    var l = 0.0;
    var dl = 0.0;
    if (q0 + e < p.T) {
      l = lse[(seq + q0 + e) * p.Hq + h];
      dl = delta[(seq + q0 + e) * p.Hq + h];
    }
    lseTile[e] = l;
    deltaTile[e] = dl;
  }

  var acc: array<f32, MAX_DIMS_PER_THREAD>;
  let kEnd = min(p.T, q0 + ROWS); // keys past the block's last query are all masked
  for (var k0 = 0u; k0 < kEnd; k0 += KEYS) {
    workgroupBarrier(); // the previous tile's readers are done
    for (var e = tid; e < KEYS * HEAD_DIM; e += threads) {
      let row = e / HEAD_DIM;
      let d = e % HEAD_DIM;
      var kx = 0.0;
      var vx = 0.0;
      if (k0 + row < kEnd) {
        let at = ((seq + k0 + row) * p.Hkv + hk) * HEAD_DIM + d;
        kx = k[at];
        vx = v[at];
      }
      kTile[row * STRIDE + d] = kx;
      vTile[row * STRIDE + d] = vx;
    }
    workgroupBarrier();

    for (var j = c; j < KEYS; j += THREADS_PER_ROW) {
      let key = k0 + j;
      var s = 0.0;
      var dp = 0.0;
      for (var d = 0u; d < HEAD_DIM; d++) {
        s += qTile[i * STRIDE + d] * kTile[j * STRIDE + d];
        dp += dOutTile[i * STRIDE + d] * vTile[j * STRIDE + d];
      }
      var pr = 0.0;
      if (key <= t && t < p.T) { pr = exp(p.scale * s - lseTile[i]); }
      dScores[i * KEYS + j] = pr * (dp - deltaTile[i]);
    }
    workgroupBarrier();

    for (var j = 0u; j < KEYS; j++) {
      let ds = dScores[i * KEYS + j];
      for (var x = 0u; x < MAX_DIMS_PER_THREAD; x++) {
        let d = c + x * THREADS_PER_ROW;
        if (d < HEAD_DIM) { acc[x] += ds * kTile[j * STRIDE + d]; }
      }
    }
  }

  if (t < p.T) {
    let row = (seq + t) * p.Hq + h;
    for (var x = 0u; x < MAX_DIMS_PER_THREAD; x++) {
      let d = c + x * THREADS_PER_ROW;
      if (d < HEAD_DIM) { dq[row * HEAD_DIM + d] = p.scale * acc[x]; }
    }
  }
}
