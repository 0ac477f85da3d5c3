// The parameters of a Qwen3 model on the GPU, under their Hugging Face names,
// each a RowSplitTensor (1-D weights as [1, dim]) so that gradients, optimizer
// state and I/O treat every parameter alike.
import { RowSplitTensor } from '../gpu/row-split.js';
import type { Runtime } from '../gpu/runtime.js';
import { openHfModelFolder, qwen3WeightShapes, type Qwen3Config } from '../io/hf-model.js';

export type ParamSet = Map<string, RowSplitTensor>;

export function as2d(shape: readonly number[]): [number, number] {
  return shape.length === 1 ? [1, shape[0]!] : [shape[0]!, shape[1]!];
}

/** Zero-filled tensors with the shapes of every weight of `cfg` (for weights, gradients or moments). */
export function zerosLike(rt: Runtime, cfg: Qwen3Config, label: string): ParamSet {
  const out: ParamSet = new Map();
  for (const [name, shape] of qwen3WeightShapes(cfg)) {
    const [rows, cols] = as2d(shape);
    out.set(name, RowSplitTensor.zeros(rt, rows, cols, `${label}:${name}`));
  }
  return out;
}

/** Loads a Hugging Face Qwen3 folder (any of f32/bf16/f16, single or sharded) onto the GPU as f32. */
export async function loadHfWeights(rt: Runtime, dir: string): Promise<{ config: Qwen3Config; params: ParamSet }> {
  const folder = await openHfModelFolder(dir);
  try {
    return { config: folder.config, params: await uploadedParams(rt, folder.config, (name) => folder.readF32(name)) };
  } finally {
    await folder.close();
  }
}

/**
 * Fills every tensor of `params` with what `read` gives for its name, one tensor at a time: each
 * upload is waited for before the next read, because the driver keeps a staging copy of every
 * upload until the GPU has taken it, and uploads left queued would hold the whole model in host
 * memory. On a failure the tensors are disposed.
 */
export async function uploadEach(rt: Runtime, params: ParamSet, read: (name: string) => Promise<Float32Array>): Promise<void> {
  try {
    for (const [name, t] of params) {
      t.write(rt, await read(name));
      await rt.sync();
    }
  } catch (err) {
    disposeAll(params);
    throw err;
  }
}

/** A new parameter set filled by `read`, one tensor at a time (uploadEach). */
export async function uploadedParams(rt: Runtime, cfg: Qwen3Config, read: (name: string) => Promise<Float32Array>): Promise<ParamSet> {
  const params = zerosLike(rt, cfg, 'w');
  await uploadEach(rt, params, read);
  return params;
}

/**
 * Random initialisation on the GPU: linear weights ~ N(0, std^2) (HF's
 * initializer_range, 0.02), norm weights 1. Deterministic for a seed.
 */
export function initRandomWeights(rt: Runtime, cfg: Qwen3Config, seed: number, std = 0.02): ParamSet {
  const params = zerosLike(rt, cfg, 'w');
  const kernel = rt.kernel('init_normal');
  let nameIndex = 0;
  for (const [name, t] of params) {
    const isNorm = name.endsWith('norm.weight');
    const cols = t.shape[1];
    for (const part of t.parts) {
      const n = part.rows * cols;
      const groups = rt.grid(Math.ceil(n / 256));
      rt.dispatch(kernel, { out: part.tensor }, {
        n, rowStride: groups[0] * 256,
        seed: (seed * 1000003 + nameIndex * 7919) >>> 0,
        base: part.rowStart * cols,
        mean: isNorm ? 1 : 0, stdDev: isNorm ? 0 : std,
      }, groups);
    }
    nameIndex++;
  }
  return params;
}

export async function readWeights(rt: Runtime, params: ParamSet): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [name, t] of params) out.set(name, await t.read(rt));
  return out;
}

/**
 * Each tensor as a function that reads it off the GPU: what a checkpoint writer takes, so that it
 * holds one tensor in host memory at a time rather than the whole set (3 x 56 GB of f32 weights
 * and moments for Qwen3-14B).
 */
export function weightSources(rt: Runtime, params: ParamSet): Map<string, () => Promise<Float32Array>> {
  return new Map([...params].map(([name, t]) => [name, () => t.read(rt)]));
}

/** A copy of `params` made on the GPU, part by part (the frozen KL reference at the start of GRPO). */
export function copyParams(rt: Runtime, cfg: Qwen3Config, params: ParamSet, label: string): ParamSet {
  const out = zerosLike(rt, cfg, label);
  for (const [name, to] of out) {
    const from = params.get(name);
    // Both sides are split by zerosLike under the same binding limit, so the parts pair up.
    if (!from || from.parts.length !== to.parts.length || from.parts.some((p, i) => p.rows !== to.parts[i]!.rows)) {
      disposeAll(out);
      throw new Error(`copyParams: ${name} ${from ? 'is split differently from' : 'is missing from'} the copy's layout`);
    }
    from.parts.forEach((p, i) => rt.copy(p.tensor, to.parts[i]!.tensor));
  }
  return out;
}

export function disposeAll(params: ParamSet): void {
  for (const t of params.values()) t.dispose();
}

export function paramCount(params: ParamSet): number {
  let n = 0;
  for (const t of params.values()) n += t.size;
  return n;
}
