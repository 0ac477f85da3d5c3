// RMSNorm forward:
//   rstd[r] = 1 / sqrt(mean_j x[r,j]^2 + eps),   y[r,j] = w[j] * (x[r,j] * rstd[r])
// (the order of Hugging Face's Qwen3RMSNorm, all in f32).
// Bindings: x [rows, dim], w [dim], y [rows, dim], rstd [rows] (saved for backward).
// Rows are tokens for the layer norms, tokens * heads for the per-head q/k norm.
// The sum of squares is a fixed tree of TREE partial sums (a power of two): partial t
// adds columns t, t + TREE, ... in order, then partials pair up at strides TREE / 2, ..., 1.
// WG invocations (a power of two dividing TREE) share a row: invocation l holds partials
// l, l + WG, ..., combines the strides >= WG itself and the rest through workgroup memory,
// so the bits depend on TREE only. CPU adapters, whose barriers are costly, use WG = 1.
// Workgroup (WG, ROWS): ROWS rows; TREE, WG and ROWS are override constants picked per adapter.
// Grid: ceil(rows / ROWS) workgroups laid out 2-D; block = wid.x + wid.y * gridX,
// row = block * ROWS + local_invocation_id.y.
override TREE: u32 = 256u;
override WG: u32 = 256u;
override ROWS: u32 = 1u;
const MAX_HELD = 256u; // TREE / WG at most

struct Params { rows: u32, dim: u32, gridX: u32, eps: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read_write> rstd: array<f32>;

var<workgroup> partial: array<f32, WG * ROWS>;

@compute @workgroup_size(WG, ROWS)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let block = wid.x + wid.y * p.gridX;
  if (block * ROWS >= p.rows) { return; } // uniform per workgroup, so no barrier is skipped by part of it
  let row = block * ROWS + lid.y;
  // rows past the end (last block) take part in the barriers but touch no memory
  let cols = select(0u, p.dim, row < p.rows);
  let base = row * p.dim;
  let held = TREE / WG; // partials lid.x + h * WG, h < held
  var a: array<f32, MAX_HELD>;
  for (var h = 0u; h < held; h++) {
    var ss = 0.0;
    for (var j = lid.x + h * WG; j < cols; j += TREE) {
      let v = x[base + j];
      ss += v * v;
    }
    a[h] = ss;
  }
  for (var s = TREE / 2u; s >= WG; s >>= 1u) {
    for (var h = 0u; h < s / WG; h++) { a[h] += a[h + s / WG]; }
  }
  let slot = lid.y * WG;
  partial[slot + lid.x] = a[0];
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride >>= 1u) {
    if (lid.x < stride) { partial[slot + lid.x] += partial[slot + lid.x + stride]; }
    workgroupBarrier();
  }
  let r = inverseSqrt(partial[slot] / f32(p.dim) + p.eps);
  for (var j = lid.x; j < cols; j += WG) {
    y[base + j] = w[j] * (x[base + j] * r);
  }
  if (lid.x == 0u && row < p.rows) { rstd[row] = r; }
}
