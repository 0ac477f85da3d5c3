// bf16 weights kept packed two to a u32 on the GPU and widened to f32 where a kernel reads them
// (the frozen KL reference: model/bf16-matrices.ts).
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';
import { f32ToBf16 } from '../io/dtype.js';

/** f32 values rounded to bf16 (round to nearest even), two to a u32: value 2k in the low half of word k. */
export function packBf16(values: Float32Array): Uint32Array {
  const halves = new Uint16Array(values.length + (values.length % 2));
  halves.set(f32ToBf16(values));
  return new Uint32Array(halves.buffer, 0, halves.length / 2);
}

/** out[i] = bf16 value i of `packed` as f32, for i < out.size. */
export function unpackBf16(rt: Runtime, packed: Tensor, out: Tensor): void {
  if (packed.dtype !== 'u32' || out.dtype !== 'f32') throw new Error(`unpackBf16: needs u32 words and an f32 output, got ${packed.dtype} and ${out.dtype}`);
  if (packed.size !== Math.ceil(out.size / 2)) throw new Error(`unpackBf16: ${packed.size} words for ${out.size} values`);
  const groups = rt.grid(Math.ceil(out.size / 256));
  rt.dispatch(rt.kernel('bf16_unpack'), { packed, out }, { n: out.size, rowStride: groups[0] * 256 }, groups);
}
