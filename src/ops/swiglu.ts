// The gated activation of Qwen3's MLP: out = silu(gate) * up, elementwise.
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';

/** out = silu(gate) * up for the first n elements, silu(g) = g * sigmoid(g). */
export function swigluForward(rt: Runtime, gate: Tensor, up: Tensor, out: Tensor, n: number): void {
  checkSizes('swigluForward', n, { gate, up, out });
  checkDistinct('swigluForward', { gate, up }, { out });
  if (n === 0) return;
  const groups = rt.grid(Math.ceil(n / 256));
  rt.dispatch(rt.kernel('swiglu_forward'), { gate, up, out }, { n, rowStride: groups[0] * 256 }, groups);
}

/** dGate = dOut * up * silu'(gate), dUp = dOut * silu(gate); both overwritten. */
export function swigluBackward(rt: Runtime, gate: Tensor, up: Tensor, dOut: Tensor, dGate: Tensor, dUp: Tensor, n: number): void {
  checkSizes('swigluBackward', n, { gate, up, dOut, dGate, dUp });
  checkDistinct('swigluBackward', { gate, up, dOut }, { dGate, dUp });
  if (dGate.buffer === dUp.buffer) throw new Error('swigluBackward: dGate and dUp must be different buffers');
  if (n === 0) return;
  const groups = rt.grid(Math.ceil(n / 256));
  rt.dispatch(rt.kernel('swiglu_backward'), { gate, up, dOut, dGate, dUp }, { n, rowStride: groups[0] * 256 }, groups);
}

function checkSizes(op: string, n: number, tensors: Record<string, Tensor>): void {
  if (!Number.isInteger(n) || n < 0) throw new Error(`${op}: n = ${n} must be a non-negative integer`);
  for (const [name, t] of Object.entries(tensors)) {
    if (t.dtype !== 'f32') throw new Error(`${op}: ${name} must be f32, is ${t.dtype}`);
    if (t.size < n) throw new Error(`${op}: ${name} '${t.label}' [${t.shape}] holds ${t.size} elements, fewer than n = ${n}`);
  }
}

/** WebGPU refuses a dispatch that binds one buffer both read-only and writable. */
function checkDistinct(op: string, inputs: Record<string, Tensor>, outputs: Record<string, Tensor>): void {
  for (const [o, ot] of Object.entries(outputs)) {
    for (const [i, it] of Object.entries(inputs)) {
      if (ot.buffer === it.buffer) throw new Error(`${op}: ${o} must not share a buffer with ${i}`);
    }
  }
}
