// Token embedding: a gather from the row-split table W [V, H] (forward) and a
// deterministic scatter-add into dW (backward), without float atomics.
import type { RowSplitTensor } from '../gpu/row-split.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';

/**
 * out[n, :] = W[ids[n], :] for ids i32 [N], out [N, H]. Ids outside [0, V)
 * give zero rows (they live on the GPU, so they cannot be reported here).
 */
export function embeddingForward(rt: Runtime, ids: Tensor, W: RowSplitTensor, out: Tensor, N: number): void {
  const [V, H] = W.shape;
  if (!Number.isInteger(N) || N < 0) throw new Error(`embeddingForward: N = ${N} must be a non-negative integer`);
  if (ids.dtype !== 'i32') throw new Error(`embeddingForward: ids must be i32, is ${ids.dtype}`);
  if (ids.size < N) throw new Error(`embeddingForward: ids holds ${ids.size} entries, fewer than N = ${N}`);
  if (out.dtype !== 'f32' || out.size < N * H) throw new Error(`embeddingForward: out '${out.label}' [${out.shape}] ${out.dtype} cannot hold [${N}, ${H}] f32`);
  if (N === 0) return;
  const [gx, gy] = rt.grid(N);
  const kernel = rt.kernel('embedding_forward');
  W.parts.forEach((part, i) => {
    const params = { N, H, V, rowStart: part.rowStart, partRows: part.rows, gridX: gx, zeroInvalid: i === 0 ? 1 : 0 };
    rt.dispatch(kernel, { ids, W: part.tensor, out }, params, [gx, gy]);
  });
}

/**
 * dW[ids[n], :] += dOut[n, :] for n < ids.length (dW ACCUMULATED). The ids are
 * grouped on the CPU, per part of dW, into unique rows with the list of their
 * tokens (CSR), uploaded once; one workgroup sums a row's tokens in token order,
 * so repeated ids need no atomics and the result is bit-reproducible.
 */
export function embeddingBackward(rt: Runtime, ids: Int32Array, dOut: Tensor, dW: RowSplitTensor): void {
  const [V, H] = dW.shape;
  const N = ids.length;
  for (let n = 0; n < N; n++) {
    const id = ids[n]!;
    if (!(id >= 0 && id < V)) throw new Error(`embeddingBackward: ids[${n}] = ${id} is outside the vocabulary [0, ${V})`);
  }
  if (dOut.dtype !== 'f32' || dOut.size < N * H) throw new Error(`embeddingBackward: dOut '${dOut.label}' [${dOut.shape}] ${dOut.dtype} cannot hold [${N}, ${H}] f32`);
  if (N === 0) return;
  const { data, parts } = groupTokensById(ids, dW);
  const csr = rt.upload(data, [data.length], 'embedding-csr');
  const kernel = rt.kernel('embedding_backward');
  for (const g of parts) {
    const [gx, gy] = rt.grid(g.U);
    const params = { U: g.U, H, rowsAt: g.rowsAt, offsetsAt: g.offsetsAt, tokensAt: g.tokensAt, gridX: gx };
    rt.dispatch(kernel, { csr, dOut, dW: dW.parts[g.part]!.tensor }, params, [gx, gy]);
  }
  csr.dispose(); // safe: later users of the buffer are recorded after these dispatches
}

interface PartGroups {
  part: number;
  U: number;
  rowsAt: number;
  offsetsAt: number;
  tokensAt: number;
}

/**
 * One i32 array holding, for each part with tokens: rows[U] (row inside the part),
 * offsets[U + 1] (into the part's token list) and tokens (ascending within a row).
 */
function groupTokensById(ids: Int32Array, dW: RowSplitTensor): { data: Int32Array; parts: PartGroups[] } {
  const N = ids.length;
  // tokens sorted by id; Array.prototype.sort is stable, so tokens of one id stay ascending
  const order = Array.from({ length: N }, (_, n) => n).sort((a, b) => ids[a]! - ids[b]!);
  // per part with tokens: U rows + (U + 1) offsets + its tokens <= 3 N + parts in all
  const data = new Int32Array(3 * N + dW.parts.length);
  const parts: PartGroups[] = [];
  let used = 0;
  let k = 0;
  dW.parts.forEach((part, index) => {
    const start = k;
    let U = 0;
    while (k < N && ids[order[k]!]! < part.rowStart + part.rows) {
      if (k === start || ids[order[k]!] !== ids[order[k - 1]!]) U++;
      k++;
    }
    if (U === 0) return;
    const g: PartGroups = { part: index, U, rowsAt: used, offsetsAt: used + U, tokensAt: used + 2 * U + 1 };
    let u = 0;
    for (let j = start; j < k; j++) {
      const id = ids[order[j]!]!;
      if (j === start || id !== ids[order[j - 1]!]) {
        data[g.rowsAt + u] = id - part.rowStart;
        data[g.offsetsAt + u] = j - start;
        u++;
      }
      data[g.tokensAt + j - start] = order[j]!;
    }
    data[g.offsetsAt + U] = k - start;
    used = g.tokensAt + (k - start);
    parts.push(g);
  });
  return { data: data.subarray(0, used), parts };
}
