// out[i] = mean + std * N(0,1), a counter-based normal draw keyed by (seed, base + i),
// so random initialisation of a multi-GB model happens on the GPU, and the
// same seed gives the same weights whatever the row-split of the tensor.
// Grid: ceil(n / 256) workgroups, 2-D when above the per-dimension limit.
struct Params { n: u32, rowStride: u32, seed: u32, base: u32, mean: f32, stdDev: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

// PCG hash (Jarzynski & Olano 2020): a good 32-bit integer mix.
fn pcg(v: u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * p.rowStride;
  if (i >= p.n) { return; }
  let idx = p.base + i;
  // The seed enters twice, before and after the index is hashed. Keyed once, as pcg(idx ^ pcg(seed)),
  // two seeds whose hashes differ by c gave out2[j] = out1[j ^ c]: whenever c fell below a tensor's
  // size, one tensor was a reshuffle of another's values (23 such pairs among Qwen3-0.6B's matrices).
  let h1 = pcg(pcg(idx ^ pcg(p.seed)) ^ pcg(p.seed + 0x9e3779b9u));
  let h2 = pcg(h1 ^ 0x9e3779b9u);
  // uniforms in (0, 1]: avoid log(0)
  let u1 = (f32(h1 >> 8u) + 1.0) / 16777216.0;
  let u2 = f32(h2 >> 8u) / 16777216.0;
  // WGSL lets log be off by 2^-21 near 1, so a GPU's log(u1) for u1 just below 1 may come out
  // >= 0; the max keeps sqrt off a negative (NaN weights). lavapipe's exact log never needs it.
  let z = sqrt(max(-2.0 * log(u1), 0.0)) * cos(6.283185307179586 * u2);
  out[i] = p.mean + p.stdDev * z;
}
