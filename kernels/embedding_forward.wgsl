// Embedding gather from one row block (part) of the table W [V, H]:
//   out[n, :] = W[ids[n] - rowStart, :]   for the tokens whose id lies in [rowStart, rowStart + partRows)
// The caller dispatches once per part. The dispatch with zeroInvalid = 1 also
// writes zeros for ids outside [0, V), so out never keeps stale values (the ids
// live on the GPU here, so they cannot be checked on the CPU).
// Bindings: ids i32 [N], W [partRows, H] (the part), out [N, H].
// Grid: N workgroups laid out 2-D (token = wid.x + wid.y * gridX); 64 threads stride over H.
struct Params { N: u32, H: u32, V: u32, rowStart: u32, partRows: u32, gridX: u32, zeroInvalid: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> ids: array<i32>;
@group(0) @binding(2) var<storage, read> W: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let n = wid.x + wid.y * p.gridX;
  if (n >= p.N) { return; }
  let id = ids[n];
  let dst = n * p.H;
  if (id < 0 || u32(id) >= p.V) {
    if (p.zeroInvalid == 1u) {
      for (var c = lid; c < p.H; c += 64u) { out[dst + c] = 0.0; }
    }
    return;
  }
  let local = u32(id) - p.rowStart; // wraps to a huge value below the part
  if (u32(id) < p.rowStart || local >= p.partRows) { return; }
  let src = local * p.H;
  for (var c = lid; c < p.H; c += 64u) { out[dst + c] = W[src + c]; }
}
