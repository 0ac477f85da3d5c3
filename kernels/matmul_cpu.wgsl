// GEMM for CPU adapters (lavapipe/llvmpipe), scalar variant: the same
// algorithm as matmul_cpu4.wgsl (read that header for the why) for views whose
// offsets, leading dimensions or extents are not multiples of 4, so A and B
// are bound as f32 arrays and every "vec4" below is assembled from 4 scalar
// loads that are bounds-checked one by one.
//   nt: C[m,n] = alpha * sum_k A[m,k] * B[n,k] + beta * C[m,n]   (x @ W^T)
//   nn: C[m,n] = alpha * sum_k A[m,k] * B[k,n] + beta * C[m,n]   (dy @ W)
//   tn: C[m,n] = alpha * sum_k A[k,m] * B[k,n] + beta * C[m,n]   (dy^T @ x)
// Addressing: X[r,c] = X[xOff + r * ldx + c]. Requires the `subgroups` feature.
// Grid: (ceil(N / (4 * WG)), ceil(M / R)). Bindings: p, A, B (read), C (read_write).
enable subgroups;

struct Params { M: u32, N: u32, K: u32, lda: u32, ldb: u32, ldc: u32, aOff: u32, bOff: u32, cOff: u32, alpha: f32, beta: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;

// Invocations per workgroup, set per dispatch (src/ops/matmul.ts cpuMatmulLanes): whole subgroups,
// just enough lanes for the columns, since a lane past N computes as much as one inside it.
override WG: u32 = 64u;
const R = 16u;  // rows of C per workgroup; R vec4 accumulators per lane (spilled: still cheaper than reloading B)

fn store4(m: u32, n: u32, acc: vec4<f32>) {
  if (m >= p.M) { return; }
  let ci = p.cOff + m * p.ldc + n;
  let v = p.alpha * acc;
  for (var i = 0u; i < 4u; i++) {
    if (n + i < p.N) {
      if (p.beta != 0.0) { C[ci + i] = v[i] + p.beta * C[ci + i]; } else { C[ci + i] = v[i]; }
    }
  }
}

fn columnGroup(wgx: u32, li: u32) -> u32 { return (wgx * WG + li) * 4u; }

// X[base + i * stride] for i < 4, zero where i >= count (count may be <= 0).
fn loadA4(base: u32, stride: u32, count: i32) -> vec4<f32> {
  var v = vec4<f32>();
  for (var i = 0; i < 4; i++) {
    if (i < count) { v[i] = A[base + u32(i) * stride]; }
  }
  return v;
}

// B[base + min(i, last) * stride] for i < 4: clamped, never zeroed (the
// matching A values are zero where the clamp kicks in).
fn loadB4(base: u32, stride: u32, last: u32) -> vec4<f32> {
  return vec4<f32>(B[base], B[base + min(1u, last) * stride], B[base + min(2u, last) * stride], B[base + min(3u, last) * stride]);
}

// A[m, 4 * ks .. 4 * ks + 3] for the R rows m0.. (zero past K).
fn loadRowSlices(m0: u32, ks: u32) -> array<vec4<f32>, R> {
  var x: array<vec4<f32>, R>;
  let k = 4u * ks;
  let count = i32(p.K) - i32(k);
  for (var r = 0u; r < R; r++) {
    let row = min(m0 + r, p.M - 1u);
    x[r] = loadA4(p.aOff + row * p.lda + min(k, p.K - 1u), 1u, count);
  }
  return x;
}

@compute @workgroup_size(WG)
fn nn(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32,
      @builtin(subgroup_invocation_id) sl: u32, @builtin(subgroup_size) sg: u32) {
  let n = columnGroup(wg.x, li);
  let m0 = wg.y * R;
  let nb = min(n, p.N - 1u);
  let lastCol = p.N - 1u - nb; // columns nb + i past N - 1 are clamped
  let K4 = (p.K + 3u) / 4u;
  var acc: array<vec4<f32>, R>;
  for (var ks = 0u; ks < K4; ks += sg) {
    let x = loadRowSlices(m0, ks + sl);
    for (var j = 0u; j < sg; j++) {
      let k = 4u * (ks + j);
      let bi = p.bOff + nb;
      let b0 = loadB4(bi + min(k, p.K - 1u) * p.ldb, 1u, lastCol);
      let b1 = loadB4(bi + min(k + 1u, p.K - 1u) * p.ldb, 1u, lastCol);
      let b2 = loadB4(bi + min(k + 2u, p.K - 1u) * p.ldb, 1u, lastCol);
      let b3 = loadB4(bi + min(k + 3u, p.K - 1u) * p.ldb, 1u, lastCol);
      for (var r = 0u; r < R; r++) {
        let a = subgroupShuffle(x[r], j);
        acc[r] = fma(vec4<f32>(a.x), b0, acc[r]);
        acc[r] = fma(vec4<f32>(a.y), b1, acc[r]);
        acc[r] = fma(vec4<f32>(a.z), b2, acc[r]);
        acc[r] = fma(vec4<f32>(a.w), b3, acc[r]);
      }
    }
  }
  if (n >= p.N) { return; }
  for (var r = 0u; r < R; r++) { store4(m0 + r, n, acc[r]); }
}

@compute @workgroup_size(WG)
fn nt(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32,
      @builtin(subgroup_invocation_id) sl: u32, @builtin(subgroup_size) sg: u32) {
  let n = columnGroup(wg.x, li);
  let m0 = wg.y * R;
  let K4 = (p.K + 3u) / 4u;
  let b0row = p.bOff + min(n, p.N - 1u) * p.ldb;
  let b1row = p.bOff + min(n + 1u, p.N - 1u) * p.ldb;
  let b2row = p.bOff + min(n + 2u, p.N - 1u) * p.ldb;
  let b3row = p.bOff + min(n + 3u, p.N - 1u) * p.ldb;
  var acc: array<vec4<f32>, R>;
  for (var ks = 0u; ks < K4; ks += sg) {
    let x = loadRowSlices(m0, ks + sl);
    for (var j = 0u; j < sg; j++) {
      let k = min(4u * (ks + j), p.K - 1u);
      let lastK = p.K - 1u - k;
      let c0 = loadB4(b0row + k, 1u, lastK);
      let c1 = loadB4(b1row + k, 1u, lastK);
      let c2 = loadB4(b2row + k, 1u, lastK);
      let c3 = loadB4(b3row + k, 1u, lastK);
      let bx = vec4<f32>(c0.x, c1.x, c2.x, c3.x);
      let by = vec4<f32>(c0.y, c1.y, c2.y, c3.y);
      let bz = vec4<f32>(c0.z, c1.z, c2.z, c3.z);
      let bw = vec4<f32>(c0.w, c1.w, c2.w, c3.w);
      for (var r = 0u; r < R; r++) {
        let a = subgroupShuffle(x[r], j);
        acc[r] = fma(vec4<f32>(a.x), bx, acc[r]);
        acc[r] = fma(vec4<f32>(a.y), by, acc[r]);
        acc[r] = fma(vec4<f32>(a.z), bz, acc[r]);
        acc[r] = fma(vec4<f32>(a.w), bw, acc[r]);
      }
    }
  }
  if (n >= p.N) { return; }
  for (var r = 0u; r < R; r++) { store4(m0 + r, n, acc[r]); }
}

@compute @workgroup_size(WG)
fn tn(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32,
      @builtin(subgroup_invocation_id) sl: u32, @builtin(subgroup_size) sg: u32) {
  let n = columnGroup(wg.x, li);
  let m0 = wg.y * R;
  let nb = min(n, p.N - 1u);
  let lastCol = p.N - 1u - nb;
  var acc: array<vec4<f32>, R>;
  for (var k0 = 0u; k0 < p.K; k0 += sg) {
    // Lane sl loads A[k0 + sl, m0 .. m0 + R) (zero past K or M).
    let kl = k0 + sl;
    var x: array<vec4<f32>, R / 4u>;
    for (var q = 0u; q < R / 4u; q++) {
      let m = m0 + 4u * q;
      let count = select(0, i32(p.M) - i32(m), kl < p.K);
      x[q] = loadA4(p.aOff + min(kl, p.K - 1u) * p.lda + min(m, p.M - 1u), 1u, count);
    }
    // Four k per iteration: llvmpipe blends every loop-carried accumulator
    // with the loop mask once per iteration, which a single k does not pay
    // for. Subgroup sizes are multiples of 4.
    for (var j0 = 0u; j0 < sg; j0 += 4u) {
      for (var u = 0u; u < 4u; u++) {
        let j = j0 + u;
        let b = loadB4(p.bOff + min(k0 + j, p.K - 1u) * p.ldb + nb, 1u, lastCol);
        for (var q = 0u; q < R / 4u; q++) {
          let a = subgroupShuffle(x[q], j);
          acc[4u * q] = fma(vec4<f32>(a.x), b, acc[4u * q]);
          acc[4u * q + 1u] = fma(vec4<f32>(a.y), b, acc[4u * q + 1u]);
          acc[4u * q + 2u] = fma(vec4<f32>(a.z), b, acc[4u * q + 2u]);
          acc[4u * q + 3u] = fma(vec4<f32>(a.w), b, acc[4u * q + 3u]);
        }
      }
    }
  }
  if (n >= p.N) { return; }
  for (var r = 0u; r < R; r++) { store4(m0 + r, n, acc[r]); }
}
