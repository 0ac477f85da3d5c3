// Embedding backward for one row block (part) of dW [V, H], without float atomics:
// the CPU groups the tokens by id (CSR), so each unique id is summed by one
// workgroup in token order (deterministic) and added into its row once:
//   dW[rows[u], :] += sum_{k in [offsets[u], offsets[u+1])} dOut[tokens[k], :]
// csr (i32) holds, for this part, rows[U] (row index inside the part) at
// rowsAt, offsets[U+1] at offsetsAt, tokens at tokensAt.
// Bindings: csr i32, dOut [N, H], dW [partRows, H] (the part).
// Grid: U workgroups laid out 2-D (u = wid.x + wid.y * gridX); 64 threads stride over H.
struct Params { U: u32, H: u32, rowsAt: u32, offsetsAt: u32, tokensAt: u32, gridX: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> csr: array<i32>;
@group(0) @binding(2) var<storage, read> dOut: array<f32>;
@group(0) @binding(3) var<storage, read_write> dW: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let u = wid.x + wid.y * p.gridX;
  if (u >= p.U) { return; }
  let dst = u32(csr[p.rowsAt + u]) * p.H;
  let first = u32(csr[p.offsetsAt + u]);
  let last = u32(csr[p.offsetsAt + u + 1u]);
  for (var c = lid; c < p.H; c += 64u) {
    var acc = 0.0;
    for (var k = first; k < last; k++) {
      acc += dOut[u32(csr[p.tokensAt + k]) * p.H + c];
    }
    dW[dst + c] = dW[dst + c] + acc;
  }
}
