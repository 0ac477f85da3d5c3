// Deterministic sum (of squares) reduction, used twice by gradNormSquared:
//   stage 1, square = 1: partials[outOffset + w] = sum of x[i]^2 over the elements partial w visits
//   stage 2, square = 0: out[outOffset] = sum of x[i] (x = the partials of all tensors)
//   x [n] (read), partials [*] (read_write; the output of this dispatch)
// Each of the G = p.parts partial sums is a fixed tree of TREE = 256 virtual lanes: virtual
// lane l of partial w visits i = w * 256 + l + k * G * 256 in order of k, then lanes pair
// up at strides 128, 64, ..., 1 (no atomics), so the result is bitwise reproducible for a
// given G. WG real lanes (a power of two, override) share a partial: real lane t holds
// virtual lanes t, t + WG, ..., combines the strides >= WG itself and the rest through
// workgroup memory, so every WG gives the same bits: 256 on GPUs, 1 on CPU adapters
// (whose barriers are costly), with PARTS partials per workgroup.
// Grid: [ceil(G / PARTS)]; partial w = wid.x * PARTS + lid.y.
struct Params { n: u32, outOffset: u32, square: u32, parts: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> partials: array<f32>;

const TREE = 256u;
override WG: u32 = 256u;
override PARTS: u32 = 1u;
const LANE_VALUES = 256u; // TREE / WG for WG = 1, the most a real lane holds
var<workgroup> red: array<f32, WG * PARTS>;

@compute @workgroup_size(WG, PARTS)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let w = wid.x * PARTS + lid.y;
  // partials past the end (last workgroup) take part in the barriers but read nothing
  let n = select(0u, p.n, w < p.parts);
  let stride = p.parts * TREE;
  let held = TREE / WG; // virtual lanes lid.x + j * WG, j < held
  var a: array<f32, LANE_VALUES>;
  for (var j = 0u; j < held; j++) {
    var acc = 0.0;
    for (var i = w * TREE + lid.x + j * WG; i < n; i += stride) {
      let xi = x[i];
      if (p.square != 0u) { acc += xi * xi; } else { acc += xi; }
    }
    a[j] = acc;
  }
  for (var s = TREE / 2u; s >= WG; s >>= 1u) {
    for (var j = 0u; j < s / WG; j++) { a[j] += a[j + s / WG]; }
  }
  let slot = lid.y * WG;
  red[slot + lid.x] = a[0];
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid.x < s) { red[slot + lid.x] += red[slot + lid.x + s]; }
    workgroupBarrier();
  }
  if (lid.x == 0u && w < p.parts) { partials[p.outOffset + w] = red[slot]; }
}
