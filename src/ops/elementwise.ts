// Residual adds and gradient accumulation.
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';

function grid256(rt: Runtime, n: number): { groups: [number, number]; rowStride: number } {
  const groups = rt.grid(Math.ceil(n / 256));
  return { groups, rowStride: groups[0] * 256 };
}

/** out = a + b (elementwise, same sizes). */
export function add(rt: Runtime, a: Tensor, b: Tensor, out: Tensor): void {
  if (a.size !== b.size || a.size !== out.size) throw new Error(`add: sizes ${a.size}, ${b.size}, ${out.size} differ`);
  const { groups, rowStride } = grid256(rt, a.size);
  rt.dispatch(rt.kernel('add'), { a, b, out }, { n: a.size, rowStride }, groups);
}

/** out = |a - b| (elementwise). */
export function absDiff(rt: Runtime, a: Tensor, b: Tensor, out: Tensor): void {
  if (a.size !== b.size || a.size !== out.size) throw new Error(`absDiff: sizes ${a.size}, ${b.size}, ${out.size} differ`);
  const { groups, rowStride } = grid256(rt, a.size);
  rt.dispatch(rt.kernel('abs_diff'), { a, b, out }, { n: a.size, rowStride }, groups);
}

/** y += alpha * x. */
export function axpy(rt: Runtime, alpha: number, x: Tensor, y: Tensor): void {
  if (x.size !== y.size) throw new Error(`axpy: sizes ${x.size} and ${y.size} differ`);
  const { groups, rowStride } = grid256(rt, x.size);
  rt.dispatch(rt.kernel('axpy'), { x, y }, { n: x.size, rowStride, alpha }, groups);
}

/** out[slot] += sum(x * mask) (masked metric sums that stay on the GPU). */
export function maskedSumInto(rt: Runtime, x: Tensor, mask: Tensor, out: Tensor, slot: number, n: number): void {
  if (x.size < n || mask.size < n || slot >= out.size) throw new Error(`maskedSumInto: sizes ${x.size}, ${mask.size}, slot ${slot} of ${out.size} for n=${n}`);
  rt.dispatch(rt.kernel('masked_sum'), { x, mask, out }, { n, slot }, [1]);
}
