// Deterministic host-side weights for tests that write and read model files (no GPU).
import { qwen3WeightShapes, type Qwen3Config } from '../src/io/hf-model.js';

/** Every weight of `cfg`, filled with amplitude * sin(k) for k counting up from `offset` across the tensors. */
export function sineWeights(cfg: Qwen3Config, offset: number, amplitude = 0.1): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  let k = offset;
  for (const [name, shape] of qwen3WeightShapes(cfg)) {
    const t = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < t.length; i++) t[i] = Math.sin(k++) * amplitude;
    out.set(name, t);
  }
  return out;
}
