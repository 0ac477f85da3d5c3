// SwiGLU backward for out = silu(gate) * up, with s = sigmoid(g):
//   dGate = dOut * up * s * (1 + g * (1 - s))      (d silu / dg)
//   dUp   = dOut * g * s                            (silu(g))
// both overwritten. Only -|g| is exponentiated (no overflow for large |g|).
// Bindings: gate, up, dOut, dGate, dUp [n]. Grid: ceil(n / 256) workgroups laid out 2-D.
struct Params { n: u32, rowStride: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> gate: array<f32>;
@group(0) @binding(2) var<storage, read> up: array<f32>;
@group(0) @binding(3) var<storage, read> dOut: array<f32>;
@group(0) @binding(4) var<storage, read_write> dGate: array<f32>;
@group(0) @binding(5) var<storage, read_write> dUp: array<f32>;

// (sigmoid(g), sigmoid(-g) = 1 - sigmoid(g)), each computed without cancellation.
fn sigmoidPair(g: f32) -> vec2<f32> {
  let e = exp(-abs(g)); // in (0, 1]
  let a = 1.0 / (1.0 + e);
  return select(vec2(e * a, a), vec2(a, e * a), g >= 0.0);
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * p.rowStride;
  if (i >= p.n) { return; }
  let g = gate[i];
  let s = sigmoidPair(g); // s.x = sigmoid(g), s.y = 1 - sigmoid(g)
  let d = dOut[i];
  dGate[i] = d * up[i] * s.x * (1.0 + g * s.y);
  dUp[i] = d * g * s.x;
}
