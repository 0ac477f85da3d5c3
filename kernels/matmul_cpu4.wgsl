// GEMM for CPU adapters (lavapipe/llvmpipe), vec4 variant. Same contract as
// matmul_naive.wgsl:
//   nt: C[m,n] = alpha * sum_k A[m,k] * B[n,k] + beta * C[m,n]   (x @ W^T)
//   nn: C[m,n] = alpha * sum_k A[m,k] * B[k,n] + beta * C[m,n]   (dy @ W)
//   tn: C[m,n] = alpha * sum_k A[k,m] * B[k,n] + beta * C[m,n]   (dy^T @ x)
// Addressing: X[r,c] = X[xOff + r * ldx + c] in floats; A and B are bound as
// vec4 arrays, so the caller picks this file only when xOff and ldx are
// multiples of 4 and so is the contiguous extent of every operand (nt, nn: K;
// nn, tn: N; tn: M). C is a plain f32 array (any ldc / cOff).
//
// Why it looks like this: llvmpipe runs one invocation per lane of an 8-wide
// SIMD vector and turns every storage-buffer load into a loop over the lanes
// (a branch, a bounds check and a scalar load per component), so loads cost
// ~10 instructions per float while an 8-lane FMA costs one. The kernel
// therefore loads each float once per subgroup and reuses it as much as the
// registers allow:
//   - a workgroup owns R rows of C and 4 * WG columns; each lane keeps R vec4
//     accumulators (R rows x 4 adjacent columns);
//   - the A values of the R rows are uniform across the subgroup: each lane
//     loads one vec4 slice of them and subgroupShuffle hands every slice to
//     all lanes (a register permute), instead of every lane loading all of A;
//   - each loaded B vec4 feeds R FMAs.
// Workgroup memory and barriers do not pay on this adapter. Requires the
// `subgroups` feature; the subgroup size is read at run time (8 on AVX2) and
// must divide WG and be a multiple of 4 (llvmpipe: 4, 8 or 16).
//
// Grid: (ceil(N / (4 * WG)), ceil(M / R)). Bindings: p, A, B (read), C (read_write).
enable subgroups;

struct Params { M: u32, N: u32, K: u32, lda: u32, ldb: u32, ldc: u32, aOff: u32, bOff: u32, cOff: u32, alpha: f32, beta: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> A: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> B: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;

// Invocations per workgroup, set per dispatch (src/ops/matmul.ts cpuMatmulLanes): whole subgroups,
// just enough lanes for the columns, since a lane past N computes as much as one inside it.
override WG: u32 = 64u;
const R = 16u;  // rows of C per workgroup; R vec4 accumulators per lane (spilled: still cheaper than reloading B)

// Columns n..n+3 of row m; nt allows any N, so each column is checked.
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

// Lane's 4 output columns start at n; the loads clamp the column group so
// that lanes past N compute on valid data and simply store nothing.
fn columnGroup(wgx: u32, li: u32) -> u32 { return (wgx * WG + li) * 4u; }

// A[m, k..k+3] for the R rows m0.. of the workgroup, the lane's slice k4 (in
// vec4 units); zero past K, rows past M clamped (their results are dropped).
fn loadRowSlices(m0: u32, k4: u32, K4: u32) -> array<vec4<f32>, R> {
  var x: array<vec4<f32>, R>;
  let lda4 = p.lda / 4u;
  for (var r = 0u; r < R; r++) {
    let row = min(m0 + r, p.M - 1u);
    x[r] = select(vec4<f32>(), A[p.aOff / 4u + row * lda4 + min(k4, K4 - 1u)], k4 < K4);
  }
  return x;
}

@compute @workgroup_size(WG)
fn nn(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32,
      @builtin(subgroup_invocation_id) sl: u32, @builtin(subgroup_size) sg: u32) {
  let n = columnGroup(wg.x, li);
  let m0 = wg.y * R;
  let nv = min(n, p.N - 4u) / 4u; // clamped vec4 column of B
  let ldb4 = p.ldb / 4u;
  let K4 = p.K / 4u;
  var acc: array<vec4<f32>, R>;
  for (var k4 = 0u; k4 < K4; k4 += sg) {
    let x = loadRowSlices(m0, k4 + sl, K4);
    for (var j = 0u; j < sg; j++) {
      // k rows past K meet zero A values; clamp them to a real row of B.
      let k = min(k4 + j, K4 - 1u) * 4u;
      let bi = p.bOff / 4u + k * ldb4 + nv;
      let b0 = B[bi];
      let b1 = B[bi + ldb4];
      let b2 = B[bi + 2u * ldb4];
      let b3 = B[bi + 3u * ldb4];
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
  let ldb4 = p.ldb / 4u;
  let K4 = p.K / 4u;
  // The lane's 4 rows of B (output columns n..n+3), clamped to N - 1.
  let b0row = p.bOff / 4u + min(n, p.N - 1u) * ldb4;
  let b1row = p.bOff / 4u + min(n + 1u, p.N - 1u) * ldb4;
  let b2row = p.bOff / 4u + min(n + 2u, p.N - 1u) * ldb4;
  let b3row = p.bOff / 4u + min(n + 3u, p.N - 1u) * ldb4;
  var acc: array<vec4<f32>, R>;
  for (var k4 = 0u; k4 < K4; k4 += sg) {
    let x = loadRowSlices(m0, k4 + sl, K4);
    for (var j = 0u; j < sg; j++) {
      let kv = min(k4 + j, K4 - 1u);
      let c0 = B[b0row + kv];
      let c1 = B[b1row + kv];
      let c2 = B[b2row + kv];
      let c3 = B[b3row + kv];
      // Transposed: bq holds B[n..n+3, k + q] (free in SIMD-of-lanes registers).
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
  let m0 = wg.y * R; // a multiple of 4: A[k, m0..m0+R) is R/4 whole vec4s
  let nv = min(n, p.N - 4u) / 4u;
  let lda4 = p.lda / 4u;
  let ldb4 = p.ldb / 4u;
  let M4 = p.M / 4u;
  var acc: array<vec4<f32>, R>;
  for (var k0 = 0u; k0 < p.K; k0 += sg) {
    // Lane sl loads row k0 + sl of A^T's slab: A[k0 + sl, m0 .. m0 + R).
    let kl = k0 + sl;
    var x: array<vec4<f32>, R / 4u>;
    for (var q = 0u; q < R / 4u; q++) {
      let mv = m0 / 4u + q;
      let ok = kl < p.K && mv < M4;
      x[q] = select(vec4<f32>(), A[p.aOff / 4u + min(kl, p.K - 1u) * lda4 + min(mv, M4 - 1u)], ok);
    }
    // Four k per iteration: llvmpipe blends every loop-carried accumulator
    // with the loop mask once per iteration, which a single k does not pay
    // for. Subgroup sizes are multiples of 4.
    for (var j0 = 0u; j0 < sg; j0 += 4u) {
      for (var u = 0u; u < 4u; u++) {
        let j = j0 + u;
        let b = B[p.bOff / 4u + min(k0 + j, p.K - 1u) * ldb4 + nv];
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
