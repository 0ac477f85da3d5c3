// SwiGLU activation of Qwen3's MLP: out[i] = silu(gate[i]) * up[i], silu(g) = g * sigmoid(g).
// sigmoid only ever exponentiates -|g|, so it cannot overflow for large |g|.
// Bindings: gate, up, out [n]. Grid: ceil(n / 256) workgroups laid out 2-D; i = gid.x + gid.y * rowStride.
struct Params { n: u32, rowStride: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> gate: array<f32>;
@group(0) @binding(2) var<storage, read> up: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

fn sigmoid(g: f32) -> f32 {
  let e = exp(-abs(g)); // in (0, 1]
  let s = 1.0 / (1.0 + e);
  return select(e * s, s, g >= 0.0); // g < 0: e^g / (1 + e^g)
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * p.rowStride;
  if (i >= p.n) { return; }
  let g = gate[i];
  out[i] = g * sigmoid(g) * up[i];
}
