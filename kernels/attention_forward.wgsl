// Causal grouped-query attention, forward, flash style (online softmax, no
// [T, T] score matrix anywhere): o = softmax(q k^T * scale + causal mask) v.
//
// Bindings (token-major, token n = b*T + t; sequences never attend to each other):
//   q   [B*T, Hq,  D]  read
//   k   [B*T, Hkv, D]  read
//   v   [B*T, Hkv, D]  read
//   out [B*T, Hq,  D]  write
//   lse [B*T, Hq]      write: log-sum-exp of the scaled, masked scores of each
//                      query row (what the backward kernels rebuild P from)
// Query head h reads kv head h / (Hq / Hkv).
//
// Grid: (ceil(T / ROWS), Hq, B). A workgroup owns ROWS consecutive queries of
// one head and walks key tiles of KEYS keys from key 0 up to its last query.
// Blocks are issued last-first because causal work grows with the query index.
//
// Threads: ROWS * THREADS_PER_ROW; thread (r, c) serves query row r. Per key tile:
//   1. the K tile goes to workgroup memory;
//   2. thread (r, c) scores keys c, c + THREADS_PER_ROW, ... of row r;
//   3. the V tile replaces K; each row's new running max gives the tile's
//      probabilities and the rescale factor of the running sums;
//   4. thread (r, c) accumulates output dims c, c + THREADS_PER_ROW, ...
//      (at most MAX_DIMS_PER_THREAD of them, kept in registers).
// Tile rows are padded to HEAD_DIM + 1 floats so that threads reading
// different rows at the same dim hit different memory banks.
override HEAD_DIM: u32;
override THREADS_PER_ROW: u32;
override ROWS: u32;
override KEYS: u32;
override STRIDE: u32 = HEAD_DIM + 1u;
override Q_TILE: u32 = ROWS * STRIDE;
override KV_TILE: u32 = KEYS * STRIDE;
override SCORE_TILE: u32 = ROWS * KEYS;
const MAX_DIMS_PER_THREAD = 8u;
const MASKED = -3.0e38; // finite stand-in for -inf (WGSL need not keep Inf)

struct Params { T: u32, Hq: u32, Hkv: u32, scale: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read_write> lse: array<f32>;

var<workgroup> qTile: array<f32, Q_TILE>;      // scale * q, rows of this block
var<workgroup> kvTile: array<f32, KV_TILE>;    // K, then V, of the current key tile
var<workgroup> scores: array<f32, SCORE_TILE>; // [ROWS, KEYS]
var<workgroup> probs: array<f32, SCORE_TILE>;  // [ROWS, KEYS], exp(score - running max)

@compute @workgroup_size(ROWS * THREADS_PER_ROW)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let threads = ROWS * THREADS_PER_ROW;
  let blocks = (p.T + ROWS - 1u) / ROWS;
  let q0 = (blocks - 1u - wg.x) * ROWS;
  let h = wg.y;
  let seq = wg.z * p.T; // first token of this sequence
  let hk = h / (p.Hq / p.Hkv);
  let r = tid / THREADS_PER_ROW;
  let c = tid % THREADS_PER_ROW;
  let t = q0 + r;

  for (var i = tid; i < ROWS * HEAD_DIM; i += threads) {
    let row = i / HEAD_DIM;
    let d = i % HEAD_DIM;
    var x = 0.0;
    if (q0 + row < p.T) { x = p.scale * q[((seq + q0 + row) * p.Hq + h) * HEAD_DIM + d]; }
    qTile[row * STRIDE + d] = x;
  }

  var runMax = MASKED;
  var runSum = 0.0;
  var acc: array<f32, MAX_DIMS_PER_THREAD>;
  let kEnd = min(p.T, q0 + ROWS); // keys past the block's last query are all masked
  for (var k0 = 0u; k0 < kEnd; k0 += KEYS) {
    for (var i = tid; i < KEYS * HEAD_DIM; i += threads) {
      let j = i / HEAD_DIM;
      let d = i % HEAD_DIM;
      var x = 0.0;
      if (k0 + j < kEnd) { x = k[((seq + k0 + j) * p.Hkv + hk) * HEAD_DIM + d]; }
      kvTile[j * STRIDE + d] = x;
    }
    workgroupBarrier();

    for (var j = c; j < KEYS; j += THREADS_PER_ROW) {
      var s = 0.0;
      for (var d = 0u; d < HEAD_DIM; d++) { s += qTile[r * STRIDE + d] * kvTile[j * STRIDE + d]; }
      let key = k0 + j;
      if (key > t || key >= p.T) { s = MASKED; }
      scores[r * KEYS + j] = s;
    }
    workgroupBarrier();

    for (var i = tid; i < KEYS * HEAD_DIM; i += threads) {
      let j = i / HEAD_DIM;
      let d = i % HEAD_DIM;
      var x = 0.0;
      if (k0 + j < kEnd) { x = v[((seq + k0 + j) * p.Hkv + hk) * HEAD_DIM + d]; }
      kvTile[j * STRIDE + d] = x;
    }
    // Key 0 is in the first tile and never masked, so the max is finite from then on.
    var tileMax = MASKED;
    for (var j = 0u; j < KEYS; j++) { tileMax = max(tileMax, scores[r * KEYS + j]); }
    let newMax = max(runMax, tileMax);
    for (var j = c; j < KEYS; j += THREADS_PER_ROW) { probs[r * KEYS + j] = exp(scores[r * KEYS + j] - newMax); }
    let rescale = exp(runMax - newMax);
    runMax = newMax;
    workgroupBarrier();

    var tileSum = 0.0;
    for (var x = 0u; x < MAX_DIMS_PER_THREAD; x++) { acc[x] *= rescale; }
    for (var j = 0u; j < KEYS; j++) {
      let pj = probs[r * KEYS + j];
      tileSum += pj;
      for (var x = 0u; x < MAX_DIMS_PER_THREAD; x++) {
        let d = c + x * THREADS_PER_ROW;
        if (d < HEAD_DIM) { acc[x] += pj * kvTile[j * STRIDE + d]; }
      }
    }
    runSum = runSum * rescale + tileSum;
    workgroupBarrier(); // the next tile overwrites kvTile and probs
  }

  if (t < p.T) {
    let row = (seq + t) * p.Hq + h;
    let inv = 1.0 / runSum;
    for (var x = 0u; x < MAX_DIMS_PER_THREAD; x++) {
      let d = c + x * THREADS_PER_ROW;
      if (d < HEAD_DIM) { out[row * HEAD_DIM + d] = acc[x] * inv; }
    }
    if (c == 0u) { lse[row] = runMax + log(runSum); }
  }
}
