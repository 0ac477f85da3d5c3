// SFT (token-mean negative log-likelihood) loss and its gradient.
//   logprobs [N], mask [N] (1 = target token)
//   loss [1]       loss[0] = -sum(logprobs * mask) * invCount   (invCount = 1 / sum(mask), from the CPU)
//   dLogprobs [N]  dLogprobs[n] = -mask[n] * invCount
// One workgroup of 256 lanes: each lane strides over N, then a fixed-order tree reduction
// (deterministic, no atomics). Grid: [1].
struct Params { N: u32, invCount: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> logprobs: array<f32>;
@group(0) @binding(2) var<storage, read> mask: array<f32>;
@group(0) @binding(3) var<storage, read_write> loss: array<f32>;
@group(0) @binding(4) var<storage, read_write> dLogprobs: array<f32>;

const WG = 256u;
var<workgroup> red: array<f32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32) {
  var acc = 0.0;
  for (var n = lid; n < p.N; n += WG) {
    let m = mask[n];
    if (m != 0.0) { acc += logprobs[n] * m; } // masked logprobs may be garbage (padding)
    dLogprobs[n] = -m * p.invCount;
  }
  red[lid] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { red[lid] += red[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) { loss[0] = -red[0] * p.invCount; }
}
