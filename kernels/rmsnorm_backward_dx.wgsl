// RMSNorm backward, input gradient. With r = rstd[row], g = dy * w and
// c = sum_j g[j] * x[r,j]:
//   dx[r,j] = r * g[j] - x[r,j] * (r^3 * c / dim)        (overwritten)
// Bindings: x [rows, dim], w [dim], rstd [rows], dy [rows, dim], dx [rows, dim].
// c is reduced as rmsnorm_forward.wgsl reduces the sum of squares (TREE partial sums
// computed by WG invocations per row), with the same workgroup (WG, ROWS) and grid:
// ceil(rows / ROWS) workgroups laid out 2-D, row = (wid.x + wid.y * gridX) * ROWS + local_invocation_id.y.
override TREE: u32 = 256u;
override WG: u32 = 256u;
override ROWS: u32 = 1u;
const MAX_HELD = 256u; // TREE / WG at most

struct Params { rows: u32, dim: u32, gridX: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> rstd: array<f32>;
@group(0) @binding(4) var<storage, read> dy: array<f32>;
@group(0) @binding(5) var<storage, read_write> dx: array<f32>;

var<workgroup> partial: array<f32, WG * ROWS>;

@compute @workgroup_size(WG, ROWS)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let block = wid.x + wid.y * p.gridX;
  if (block * ROWS >= p.rows) { return; } // uniform per workgroup
  let row = block * ROWS + lid.y;
  let cols = select(0u, p.dim, row < p.rows); // rows past the end only join the barriers
  let base = row * p.dim;
  let held = TREE / WG; // partials lid.x + h * WG, h < held
  var a: array<f32, MAX_HELD>;
  for (var h = 0u; h < held; h++) {
    var c = 0.0;
    for (var j = lid.x + h * WG; j < cols; j += TREE) {
      c += dy[base + j] * w[j] * x[base + j];
    }
    a[h] = c;
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
  if (cols == 0u) { return; } // after the last barrier: safe
  let r = rstd[row];
  let k = r * r * r * partial[slot] / f32(p.dim);
  for (var j = lid.x; j < cols; j += WG) {
    dx[base + j] = r * (dy[base + j] * w[j]) - x[base + j] * k;
  }
}
