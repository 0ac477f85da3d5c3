// Reference GEMM, one output element per invocation (slow; the correctness
// baseline that the tuned kernels in matmul.wgsl are checked against).
//   nt: C[m,n] = alpha * sum_k A[m,k] * B[n,k] + beta * C[m,n]   (x @ W^T)
//   nn: C[m,n] = alpha * sum_k A[m,k] * B[k,n] + beta * C[m,n]   (dy @ W)
//   tn: C[m,n] = alpha * sum_k A[k,m] * B[k,n] + beta * C[m,n]   (dy^T @ x)
// Addressing: X[r,c] = X[xOff + r * ldx + c]. Grid: (ceil(N/16), ceil(M/16)).
struct Params { M: u32, N: u32, K: u32, lda: u32, ldb: u32, ldc: u32, aOff: u32, bOff: u32, cOff: u32, alpha: f32, beta: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;

fn store(m: u32, n: u32, acc: f32) {
  let ci = p.cOff + m * p.ldc + n;
  if (p.beta == 0.0) { C[ci] = p.alpha * acc; } else { C[ci] = p.alpha * acc + p.beta * C[ci]; }
}

@compute @workgroup_size(16, 16)
fn nt(@builtin(global_invocation_id) g: vec3<u32>) {
  let n = g.x; let m = g.y;
  if (m >= p.M || n >= p.N) { return; }
  var acc = 0.0;
  for (var k = 0u; k < p.K; k++) { acc += A[p.aOff + m * p.lda + k] * B[p.bOff + n * p.ldb + k]; }
  store(m, n, acc);
}

@compute @workgroup_size(16, 16)
fn nn(@builtin(global_invocation_id) g: vec3<u32>) {
  let n = g.x; let m = g.y;
  if (m >= p.M || n >= p.N) { return; }
  var acc = 0.0;
  for (var k = 0u; k < p.K; k++) { acc += A[p.aOff + m * p.lda + k] * B[p.bOff + k * p.ldb + n]; }
  store(m, n, acc);
}

@compute @workgroup_size(16, 16)
fn tn(@builtin(global_invocation_id) g: vec3<u32>) {
  let n = g.x; let m = g.y;
  if (m >= p.M || n >= p.N) { return; }
  var acc = 0.0;
  for (var k = 0u; k < p.K; k++) { acc += A[p.aOff + k * p.lda + m] * B[p.bOff + k * p.ldb + n]; }
  store(m, n, acc);
}
