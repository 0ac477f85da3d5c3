// Gradient clipping factor, torch.nn.utils.clip_grad_norm_ semantics:
//   scale[0] = min(1, maxNorm / (sqrt(normSquared[0]) + 1e-6))
// normSquared [1] (from gradNormSquared), scale [1]. Grid: [1].
struct Params { maxNorm: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> normSquared: array<f32>;
@group(0) @binding(2) var<storage, read_write> scale: array<f32>;

@compute @workgroup_size(1)
fn main() {
  scale[0] = min(1.0, p.maxNorm / (sqrt(normSquared[0]) + 1e-6));
}
