// Row gather (e.g. the last hidden row of each sequence before the LM head).
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';

/** dst[i, :] = src[rowIdx[i], :] for i < M; an index outside src's rows gives a zero row. */
export function gatherRows(rt: Runtime, src: Tensor, rowIdx: Tensor /* i32 [M] */, dst: Tensor, M: number, cols: number): void {
  if (M === 0 || cols === 0) return;
  if (src.size % cols !== 0) throw new Error(`gatherRows: src '${src.label}' of ${src.size} elements is not [rows, ${cols}]`);
  if (rowIdx.size < M) throw new Error(`gatherRows: rowIdx holds ${rowIdx.size} indices, needs ${M}`);
  if (dst.size < M * cols) throw new Error(`gatherRows: dst '${dst.label}' holds ${dst.size} elements, needs ${M * cols}`);
  const groups = rt.grid(Math.ceil((M * cols) / 256));
  rt.dispatch(rt.kernel('gather_rows'), { src, rowIdx, dst }, { M, cols, srcRows: src.size / cols, rowStride: groups[0] * 256 }, groups);
}
