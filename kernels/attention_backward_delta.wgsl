// Attention backward, step 1: delta[n, h] = sum_d dOut[n, h, d] * out[n, h, d].
// It equals sum_j P_ij dP_ij, the term the softmax backward subtracts
// (dS_ij = P_ij (dP_ij - delta_i)), computed once per query row instead of
// once per key tile.
//
// Bindings: out [rows, D] read, dOut [rows, D] read, delta [rows] write,
// with rows = B*T*Hq. One invocation per row.
// Grid: ceil(rows / 256) workgroups, laid out 2-D when above the per-dimension
// limit (rowStride = workgroups in x * 256).
struct Params { rows: u32, rowStride: u32, D: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> out: array<f32>;
@group(0) @binding(2) var<storage, read> dOut: array<f32>;
@group(0) @binding(3) var<storage, read_write> delta: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row = gid.x + gid.y * p.rowStride;
  if (row >= p.rows) { return; }
  var s = 0.0;
  for (var d = 0u; d < p.D; d++) { s += out[row * p.D + d] * dOut[row * p.D + d]; }
  delta[row] = s;
}
