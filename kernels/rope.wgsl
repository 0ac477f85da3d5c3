// Rotary position embedding, "rotate half" form (Hugging Face Qwen3): dimension i
// pairs with i + D/2, for i < D/2, with c = cos(angle), s = sin(angle):
//   out[i]       = x[i] * c - x[i + D/2] * s * sinSign
//   out[i + D/2] = x[i + D/2] * c + x[i] * s * sinSign
// sinSign = +1 is the forward; -1 rotates by -angle, which is the backward
// (the transpose of a rotation is its inverse).
// Bindings: x [N, heads, D], positions i32 [N], table [maxPositions, D] (cos in
// [0, D/2), sin in [D/2, D) per position, built on the CPU), out [N, heads, D].
// Positions outside [0, maxPositions) are clamped (the GPU cannot report them).
// Grid: ceil(N * heads * D/2 / 256) workgroups laid out 2-D; one invocation per
// pair, pair = gid.x + gid.y * rowStride.
struct Params { pairs: u32, heads: u32, D: u32, maxPositions: u32, rowStride: u32, sinSign: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> positions: array<i32>;
@group(0) @binding(3) var<storage, read> table: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let pair = gid.x + gid.y * p.rowStride;
  if (pair >= p.pairs) { return; }
  let half = p.D / 2u;
  let row = pair / half;           // (token, head)
  let i = pair - row * half;
  let token = row / p.heads;
  let pos = u32(clamp(positions[token], 0, i32(p.maxPositions) - 1));
  let c = table[pos * p.D + i];
  let s = table[pos * p.D + half + i] * p.sinSign;
  let a = row * p.D + i;
  let x1 = x[a];
  let x2 = x[a + half];
  out[a] = x1 * c - x2 * s;
  out[a + half] = x2 * c + x1 * s;
}
