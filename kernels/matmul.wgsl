// GEMM for GPUs: workgroup-memory tiles with register blocking.
//   nt: C[m,n] = alpha * sum_k A[m,k] * B[n,k] + beta * C[m,n]   (x @ W^T)
//   nn: C[m,n] = alpha * sum_k A[m,k] * B[k,n] + beta * C[m,n]   (dy @ W)
//   tn: C[m,n] = alpha * sum_k A[k,m] * B[k,n] + beta * C[m,n]   (dy^T @ x)
// Addressing: X[r,c] = X[xOff + r * ldx + c] (any offsets and leading
// dimensions; all tile loads are bounds-checked, so no shape needs to be a
// multiple of a tile).
//
// A workgroup of 16 x 16 threads computes a TM x TN = 64 x 64 tile of C; each
// thread owns 4 x 4 outputs at rows ty + 16 i and columns tx + 16 j (strided,
// so that neighbouring threads read neighbouring workgroup-memory words and
// write neighbouring columns of C). K advances in steps of TK = 16: the
// 64 x 16 slabs of A and B are staged in workgroup memory as [k][m] and [k][n],
// loaded by all 256 threads with consecutive threads on the operand's
// contiguous dimension (coalesced for every kind).
//
// Grid: (ceil(N / 64), ceil(M / 64)). Bindings: p, A, B (read), C (read_write).
struct Params { M: u32, N: u32, K: u32, lda: u32, ldb: u32, ldc: u32, aOff: u32, bOff: u32, cOff: u32, alpha: f32, beta: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;

const TM = 64u;
const TN = 64u;
const TK = 16u;
const THREADS = 256u;

var<workgroup> As: array<f32, 1024>; // [TK][TM]
var<workgroup> Bs: array<f32, 1024>; // [TK][TN]

// A[m, k] when A is stored [M, K] (nt, nn), zero outside.
fn aRowMajor(m: u32, k: u32) -> f32 {
  if (m < p.M && k < p.K) { return A[p.aOff + m * p.lda + k]; }
  return 0.0;
}
// A[m, k] when A is stored [K, M] (tn).
fn aColMajor(m: u32, k: u32) -> f32 {
  if (m < p.M && k < p.K) { return A[p.aOff + k * p.lda + m]; }
  return 0.0;
}
// B[k, n] when B is stored [N, K] (nt).
fn bRowsN(k: u32, n: u32) -> f32 {
  if (n < p.N && k < p.K) { return B[p.bOff + n * p.ldb + k]; }
  return 0.0;
}
// B[k, n] when B is stored [K, N] (nn, tn).
fn bRowsK(k: u32, n: u32) -> f32 {
  if (n < p.N && k < p.K) { return B[p.bOff + k * p.ldb + n]; }
  return 0.0;
}

// Element e of a TM x TK slab, walked along k first (operand contiguous in k)
// or along m first (operand contiguous in m); returns (row in tile, k in tile).
fn alongK(e: u32) -> vec2<u32> { return vec2<u32>(e / TK, e % TK); }
fn alongRows(e: u32) -> vec2<u32> { return vec2<u32>(e % TM, e / TM); }

fn multiplyTile(tx: u32, ty: u32, acc: ptr<function, array<vec4<f32>, 4>>) {
  for (var kk = 0u; kk < TK; kk++) {
    let a = vec4<f32>(As[kk * TM + ty], As[kk * TM + ty + 16u], As[kk * TM + ty + 32u], As[kk * TM + ty + 48u]);
    let b = vec4<f32>(Bs[kk * TN + tx], Bs[kk * TN + tx + 16u], Bs[kk * TN + tx + 32u], Bs[kk * TN + tx + 48u]);
    (*acc)[0] = fma(vec4<f32>(a.x), b, (*acc)[0]);
    (*acc)[1] = fma(vec4<f32>(a.y), b, (*acc)[1]);
    (*acc)[2] = fma(vec4<f32>(a.z), b, (*acc)[2]);
    (*acc)[3] = fma(vec4<f32>(a.w), b, (*acc)[3]);
  }
}

fn storeTile(m0: u32, n0: u32, tx: u32, ty: u32, acc: array<vec4<f32>, 4>) {
  for (var i = 0u; i < 4u; i++) {
    let m = m0 + ty + 16u * i;
    if (m >= p.M) { continue; }
    for (var j = 0u; j < 4u; j++) {
      let n = n0 + tx + 16u * j;
      if (n >= p.N) { continue; }
      let ci = p.cOff + m * p.ldc + n;
      let v = p.alpha * acc[i][j];
      if (p.beta != 0.0) { C[ci] = v + p.beta * C[ci]; } else { C[ci] = v; }
    }
  }
}

@compute @workgroup_size(16, 16)
fn nt(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let m0 = wg.y * TM;
  let n0 = wg.x * TN;
  var acc: array<vec4<f32>, 4>;
  for (var k0 = 0u; k0 < p.K; k0 += TK) {
    for (var e = tid; e < TM * TK; e += THREADS) {
      let a = alongK(e);
      As[a.y * TM + a.x] = aRowMajor(m0 + a.x, k0 + a.y);
      Bs[a.y * TN + a.x] = bRowsN(k0 + a.y, n0 + a.x);
    }
    workgroupBarrier();
    multiplyTile(lid.x, lid.y, &acc);
    workgroupBarrier();
  }
  storeTile(m0, n0, lid.x, lid.y, acc);
}

@compute @workgroup_size(16, 16)
fn nn(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let m0 = wg.y * TM;
  let n0 = wg.x * TN;
  var acc: array<vec4<f32>, 4>;
  for (var k0 = 0u; k0 < p.K; k0 += TK) {
    for (var e = tid; e < TM * TK; e += THREADS) {
      let a = alongK(e);
      As[a.y * TM + a.x] = aRowMajor(m0 + a.x, k0 + a.y);
      let b = alongRows(e);
      Bs[b.y * TN + b.x] = bRowsK(k0 + b.y, n0 + b.x);
    }
    workgroupBarrier();
    multiplyTile(lid.x, lid.y, &acc);
    workgroupBarrier();
  }
  storeTile(m0, n0, lid.x, lid.y, acc);
}

@compute @workgroup_size(16, 16)
fn tn(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let m0 = wg.y * TM;
  let n0 = wg.x * TN;
  var acc: array<vec4<f32>, 4>;
  for (var k0 = 0u; k0 < p.K; k0 += TK) {
    for (var e = tid; e < TM * TK; e += THREADS) {
      let a = alongRows(e);
      As[a.y * TM + a.x] = aColMajor(m0 + a.x, k0 + a.y);
      Bs[a.y * TN + a.x] = bRowsK(k0 + a.y, n0 + a.x);
    }
    workgroupBarrier();
    multiplyTile(lid.x, lid.y, &acc);
    workgroupBarrier();
  }
  storeTile(m0, n0, lid.x, lid.y, acc);
}
