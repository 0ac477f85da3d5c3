// Row gather: dst[i, c] = src[rowIdx[i], c]   (e.g. the last token's hidden row of each
// sequence before the LM head, or reordering rows of a batch).
//   src     [srcRows, cols]  read
//   rowIdx  i32 [M]          read; an index outside [0, srcRows) gives a zero row
//   dst     [M, cols]        write
// One invocation per element of dst, element e = i * cols + c.
// Grid: ceil(M * cols / 256) workgroups, 2-D when above the per-dimension limit
// (rowStride = workgroups in x * 256).
struct Params { M: u32, cols: u32, srcRows: u32, rowStride: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> rowIdx: array<i32>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let e = gid.x + gid.y * p.rowStride;
  if (e >= p.M * p.cols) { return; }
  let i = e / p.cols;
  let c = e % p.cols;
  let r = rowIdx[i];
  var x = 0.0;
  if (r >= 0 && u32(r) < p.srcRows) { x = src[u32(r) * p.cols + c]; }
  dst[e] = x;
}
