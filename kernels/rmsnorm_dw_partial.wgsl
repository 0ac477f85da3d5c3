// RMSNorm backward, weight gradient, step 1 of 2 (deterministic, no atomics):
//   partial[b, j] = sum over rows r of block b of dy[r,j] * x[r,j] * rstd[r]
// Blocks are rowsPerBlock consecutive rows (the last may be shorter).
// Bindings: x [rows, dim], rstd [rows], dy [rows, dim], partial [blocks, dim].
// Grid: (ceil(dim / 64), blocks); one invocation per (column, block), so
// neighbouring invocations read neighbouring columns of a row.
struct Params { rows: u32, dim: u32, rowsPerBlock: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> rstd: array<f32>;
@group(0) @binding(3) var<storage, read> dy: array<f32>;
@group(0) @binding(4) var<storage, read_write> partial: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  let block = gid.y;
  if (j >= p.dim) { return; }
  let start = block * p.rowsPerBlock;
  let end = min(p.rows, start + p.rowsPerBlock);
  var acc = 0.0;
  for (var r = start; r < end; r++) {
    let i = r * p.dim + j;
    acc += dy[i] * x[i] * rstd[r];
  }
  partial[block * p.dim + j] = acc;
}
