// Deterministic sum (of squares) reduction, used twice by gradNormSquared:
//   stage 1, square = 1: partials[outOffset + w] = sum of x[i]^2 over the elements workgroup w visits
//   stage 2, square = 0: out[outOffset] = sum of x[i] (x = the partials of all tensors)
//   x [n] (read), partials [*] (read_write; the output of this dispatch)
// Grid: [G] with G <= 65535 workgroups of 256 lanes; lane l of workgroup w visits
// i = w * 256 + l + k * G * 256, then a fixed-order tree reduction (no atomics), so the
// result is bitwise reproducible for a given G.
struct Params { n: u32, outOffset: u32, square: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> partials: array<f32>;

const WG = 256u;
var<workgroup> red: array<f32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let stride = nwg.x * WG;
  var acc = 0.0;
  for (var i = wid.x * WG + lid; i < p.n; i += stride) {
    let xi = x[i];
    if (p.square != 0u) { acc += xi * xi; } else { acc += xi; }
  }
  red[lid] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { red[lid] += red[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) { partials[p.outOffset + wid.x] = red[0]; }
}
