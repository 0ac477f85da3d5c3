// Causal grouped-query attention, forward, for CPU adapters (lavapipe). Same
// contract as attention_forward.wgsl: out = softmax(q k^T * scale + causal
// mask) v by online softmax, and lse = log-sum-exp of each query row's scaled
// scores (what the backward rebuilds the probabilities from).
//
// Bindings (token-major, token n = b*T + t; head dim D <= MAX_D):
//   q   [B*T, Hq,  D]  read
//   k   [B*T, Hkv, D]  read
//   v   [B*T, Hkv, D]  read
//   out [B*T, Hq,  D]  write
//   lse [B*T, Hq]      write
// Query head h reads kv head h / (Hq / Hkv).
//
// Each invocation owns ROWS consecutive query rows of one head; a workgroup
// of WG invocations (a multiple of the subgroup size) owns ROWS * WG
// consecutive queries of one head and one sequence.
// Grid: B * Hq * ceil(T / (ROWS * WG)) workgroups, laid out 2-D by the host
// (gridX = workgroups in x); flat workgroup w serves head w % Hq, sequence
// (w / Hq) % B and query block blocks - 1 - w / (Hq * B): longest rows first.
//
// Why it looks like this: llvmpipe runs each invocation as one lane of a SIMD
// vector, implements workgroup barriers as coroutine switches, and turns a
// storage load into a loop over the lanes with a bounds check per lane. So:
//   - no workgroup memory and no barriers;
//   - each lane keeps its scaled q rows and output rows in registers (arrays);
//   - the K and V rows, which every lane of a subgroup needs, are loaded once
//     per subgroup (lane l loads element d0 + l) and handed to all lanes with
//     subgroupShuffle (one vpermd on AVX2); each shuffled value feeds ROWS
//     FMAs, which is what ROWS buys (2: 1.3 to 1.5x at T = 512, D = 128 over
//     1; 4 was faster still but took over 10 s to compile);
//   - the key loop runs to the subgroup's last query (subgroupMax: uniform)
//     in chunks of KC keys that share one rescale of the running sums; keys
//     past a row's own query are masked with a finite MASKED.
// D is a runtime parameter: HEAD_DIM-specialized kernels were no faster and
// their fully unrolled loops took 15 to 60 s to compile per head dim.
//
// Every `var` declared inside a loop has an explicit initializer: this
// Dawn/lavapipe stack was seen not to re-zero uninitialized ones per iteration.
enable subgroups;
diagnostic(off, subgroup_uniformity); // key loops are bounded by subgroupMax results

override WG: u32 = 16u;
const ROWS = 2u;   // query rows per invocation
const MAX_D = 256u;
const KC = 8u;     // keys per online-softmax chunk
const MASKED = -3.0e38; // finite stand-in for -inf (WGSL need not keep Inf)

struct Params { T: u32, B: u32, Hq: u32, Hkv: u32, D: u32, gridX: u32, scale: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read_write> lse: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32,
        @builtin(subgroup_invocation_id) sl: u32, @builtin(subgroup_size) sg: u32) {
  let D = p.D;
  let blocks = (p.T + ROWS * WG - 1u) / (ROWS * WG);
  let w = wg.x + wg.y * p.gridX;
  if (w >= blocks * p.B * p.Hq) { return; } // uniform: padding of the 2-D grid
  let h = w % p.Hq;
  let seq = ((w / p.Hq) % p.B) * p.T; // first token of the sequence
  let first = (blocks - 1u - w / (p.Hq * p.B)) * ROWS * WG + ROWS * li;
  // Rows past the end work on query 0 (one chunk) and store nothing; an early
  // return would take their lane out of the subgroup operations below.
  var t = array<u32, ROWS>();
  var lastT = 0u;
  for (var r = 0u; r < ROWS; r++) {
    t[r] = select(0u, first + r, first + r < p.T);
    lastT = max(lastT, t[r]);
  }
  let kEnd = subgroupMax(lastT) + 1u; // keys past the subgroup's last query are masked for every row
  let kvStride = p.Hkv * D;
  let kvBase = (seq * p.Hkv + h / (p.Hq / p.Hkv)) * D; // key j's row starts at kvBase + j * kvStride

  var qr = array<array<f32, MAX_D>, ROWS>();
  for (var r = 0u; r < ROWS; r++) {
    let row = ((seq + t[r]) * p.Hq + h) * D;
    for (var d = 0u; d < D; d++) { qr[r][d] = p.scale * q[row + d]; }
  }
  var acc = array<array<f32, MAX_D>, ROWS>();
  var runMax = array<f32, ROWS>();
  var runSum = array<f32, ROWS>();
  for (var r = 0u; r < ROWS; r++) { runMax[r] = MASKED; }
  for (var k0 = 0u; k0 < kEnd; k0 += KC) {
    // Scores of keys k0 .. k0 + KC - 1 (clamped to kEnd - 1, masked below).
    var s = array<array<f32, KC>, ROWS>();
    for (var d0 = 0u; d0 < D; d0 += sg) {
      let dl = min(d0 + sl, D - 1u); // this lane's element of each key row
      var ks = array<f32, KC>();
      for (var c = 0u; c < KC; c++) { ks[c] = k[kvBase + min(k0 + c, kEnd - 1u) * kvStride + dl]; }
      for (var j = 0u; j < sg; j++) {
        if (d0 + j < D) {
          var qv = array<f32, ROWS>();
          for (var r = 0u; r < ROWS; r++) { qv[r] = qr[r][d0 + j]; }
          for (var c = 0u; c < KC; c++) {
            let kj = subgroupShuffle(ks[c], j);
            for (var r = 0u; r < ROWS; r++) { s[r][c] = fma(qv[r], kj, s[r][c]); }
          }
        }
      }
    }
    var pr = array<array<f32, KC>, ROWS>();
    var rescale = array<f32, ROWS>();
    for (var r = 0u; r < ROWS; r++) {
      var chunkMax = MASKED;
      for (var c = 0u; c < KC; c++) {
        s[r][c] = select(MASKED, s[r][c], k0 + c <= t[r]);
        chunkMax = max(chunkMax, s[r][c]);
      }
      // Key 0 is in the first chunk and never masked: runMax is finite from then on.
      let newMax = max(runMax[r], chunkMax);
      rescale[r] = exp(runMax[r] - newMax);
      runMax[r] = newMax;
      var chunkSum = 0.0;
      for (var c = 0u; c < KC; c++) {
        pr[r][c] = select(0.0, exp(s[r][c] - newMax), k0 + c <= t[r]);
        chunkSum += pr[r][c];
      }
      runSum[r] = runSum[r] * rescale[r] + chunkSum;
    }
    for (var d0 = 0u; d0 < D; d0 += sg) {
      let dl = min(d0 + sl, D - 1u);
      var vs = array<f32, KC>();
      for (var c = 0u; c < KC; c++) { vs[c] = v[kvBase + min(k0 + c, kEnd - 1u) * kvStride + dl]; }
      for (var j = 0u; j < sg; j++) {
        if (d0 + j < D) {
          var a = array<f32, ROWS>();
          for (var r = 0u; r < ROWS; r++) { a[r] = acc[r][d0 + j] * rescale[r]; }
          for (var c = 0u; c < KC; c++) {
            let vj = subgroupShuffle(vs[c], j);
            for (var r = 0u; r < ROWS; r++) { a[r] = fma(pr[r][c], vj, a[r]); }
          }
          for (var r = 0u; r < ROWS; r++) { acc[r][d0 + j] = a[r]; }
        }
      }
    }
  }
  for (var r = 0u; r < ROWS; r++) {
    if (first + r < p.T) {
      let stat = (seq + t[r]) * p.Hq + h;
      let inv = 1.0 / runSum[r];
      for (var d = 0u; d < D; d++) { out[stat * D + d] = acc[r][d] * inv; }
      lse[stat] = runMax[r] + log(runSum[r]);
    }
  }
}
