// A Qwen3 for forward passes only, with its layer matrices in bf16: GRPO's frozen KL reference
// (grpo.referenceDtype 'bf16') and a judge loaded for evaluation or generation with --weights bf16.
// Half the memory of f32 for them, which is most of a model's weights. Each matrix is widened to
// f32 just before the kernel that reads it, into a scratch buffer that the same matrix of every
// layer reuses, so the existing f32 kernels compute the forward pass (and, through the same
// layerForward, KV-cache decoding): its outputs are those of an f32 model whose layer matrices
// were rounded to bf16, exactly those of the f32 model when the weights were bf16 to begin with
// (Qwen3's released checkpoints are). The embedding (read by a gather and by the LM head, whose
// f32 scratch would be as large as itself) and the norm weights (small) stay f32.
import { RowSplitTensor, rowsPerPartFor } from '../gpu/row-split.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';
import { openHfModelFolder, qwen3WeightShapes, type Qwen3Config } from '../io/hf-model.js';
import { packBf16, unpackBf16 } from '../ops/bf16.js';
import { Qwen3 } from './qwen3.js';
import { as2d, disposeAll, loadHfWeights, type ParamSet } from './weights.js';

/** The layer matrices (attention and MLP projections), the weights kept in bf16. */
export const BF16_LAYER_MATRIX = /^model\.layers\.\d+\.(self_attn\.[qkvo]_proj|mlp\.(gate|up|down)_proj)\.weight$/;

/** A [rows, cols] matrix in bf16, in the row blocks RowSplitTensor.zeros gives its f32 form. */
interface PackedMatrix {
  shape: [number, number];
  /** Per row block: its bf16 values two to a u32. */
  parts: Tensor[];
}

export class Bf16MatricesQwen3 extends Qwen3 {
  /** f32 scratch per matrix name within a layer (e.g. 'mlp.up_proj.weight'), shared by the layers. */
  private readonly widened = new Map<string, RowSplitTensor>();

  private constructor(rt: Runtime, cfg: Qwen3Config, params: ParamSet, private readonly packed: ReadonlyMap<string, PackedMatrix>) {
    super(rt, cfg, params);
  }

  /** The model from f32 weights already in host memory (tests, a caller holding them). */
  static fromWeights(rt: Runtime, cfg: Qwen3Config, weights: ReadonlyMap<string, Float32Array>): Promise<Bf16MatricesQwen3> {
    return Bf16MatricesQwen3.fromReader(rt, cfg, async (name) => {
      const values = weights.get(name);
      if (!values) throw new Error(`bf16 matrices: missing weight ${name}`);
      return values;
    });
  }

  /** The model of a Hugging Face Qwen3 folder, read one tensor at a time (fromReader). */
  static async fromFolder(rt: Runtime, dir: string): Promise<Bf16MatricesQwen3> {
    const folder = await openHfModelFolder(dir);
    try {
      return await Bf16MatricesQwen3.fromReader(rt, folder.config, (name) => folder.readF32(name));
    } finally {
      await folder.close();
    }
  }

  /**
   * The model read one tensor at a time (a model folder: the saved KL reference at GRPO's start and
   * on resume, a judge to evaluate), so that the host holds one f32 tensor at once, not the whole model.
   */
  static async fromReader(rt: Runtime, cfg: Qwen3Config, read: (name: string) => Promise<Float32Array>): Promise<Bf16MatricesQwen3> {
    const params: ParamSet = new Map();
    const packed = new Map<string, PackedMatrix>();
    try {
      for (const [name, shape] of qwen3WeightShapes(cfg)) {
        storeWeight(rt, name, shape, await read(name), params, packed);
        await rt.sync(); // the driver's staging copy of each upload released before the next read (uploadEach)
      }
    } catch (err) {
      disposeAll(params);
      disposePacked(packed);
      throw err;
    }
    return new Bf16MatricesQwen3(rt, cfg, params, packed);
  }

  protected override p(name: string): RowSplitTensor {
    const matrix = this.packed.get(name);
    if (!matrix) return super.p(name);
    const key = name.replace(/^model\.layers\.\d+\./, '');
    let f32 = this.widened.get(key);
    if (!f32) {
      f32 = RowSplitTensor.zeros(this.rt, matrix.shape[0], matrix.shape[1], `ref-widened:${key}`);
      // Packed and widened parts pair up by index: both split rows with rowsPerPartFor(cols, binding limit).
      if (f32.parts.length !== matrix.parts.length) throw new Error(`bf16 matrices: ${name} has ${matrix.parts.length} packed parts, its f32 scratch ${f32.parts.length}`);
      this.widened.set(key, f32);
    }
    f32.parts.forEach((part, i) => unpackBf16(this.rt, matrix.parts[i]!, part.tensor));
    return f32;
  }

  override dispose(): void {
    super.dispose();
    disposePacked(this.packed);
    for (const t of this.widened.values()) t.dispose();
  }
}

/** One weight onto the GPU: a layer matrix packed to bf16 in the row blocks of its f32 form, the rest as f32. */
function storeWeight(rt: Runtime, name: string, shape: readonly number[], values: Float32Array, params: ParamSet, packed: Map<string, PackedMatrix>): void {
  const [rows, cols] = as2d(shape);
  if (values.length !== rows * cols) throw new Error(`bf16 matrices: ${name} has ${values.length} values for shape [${rows}, ${cols}]`);
  if (!BF16_LAYER_MATRIX.test(name)) {
    const t = RowSplitTensor.zeros(rt, rows, cols, `ref:${name}`);
    t.write(rt, values);
    params.set(name, t);
    return;
  }
  const rowsPerPart = rowsPerPartFor(cols, rt.gpu.maxStorageBindingBytes);
  const parts: Tensor[] = [];
  for (let r = 0; r < rows; r += rowsPerPart) {
    const n = Math.min(rowsPerPart, rows - r);
    const words = packBf16(values.subarray(r * cols, (r + n) * cols));
    parts.push(rt.upload(words, [words.length], `ref-bf16:${name}[${r}:${r + n}]`, true));
  }
  packed.set(name, { shape: [rows, cols], parts });
}

function disposePacked(packed: ReadonlyMap<string, PackedMatrix>): void {
  for (const m of packed.values()) for (const t of m.parts) t.dispose();
}

/** How a model loaded for inference keeps its layer matrices: f32, or bf16 (Bf16MatricesQwen3). */
export type InferenceWeights = 'f32' | 'bf16';
export const INFERENCE_WEIGHTS: readonly InferenceWeights[] = ['f32', 'bf16'];

/** A Qwen3 for forward passes and decoding from a model folder, its layer matrices kept as `weights` says. */
export async function loadInferenceModel(rt: Runtime, dir: string, weights: InferenceWeights): Promise<Qwen3> {
  if (weights === 'bf16') return Bf16MatricesQwen3.fromFolder(rt, dir);
  const { config, params } = await loadHfWeights(rt, dir);
  return new Qwen3(rt, config, params);
}
