// The bf16 KL reference (grpo.referenceDtype 'bf16'): layer matrices packed two bf16 to a u32 on
// the GPU and widened to f32 by a kernel right before use. The widening must be exact and the
// packing round to nearest even, and the model's log-probs must be bit for bit those of an f32
// model whose layer matrices were rounded to bf16 on the host.
import { describe, expect, it } from 'vitest';
import { bf16ToF32, f32ToBf16 } from '../src/io/dtype.js';
import { BF16_LAYER_MATRIX, Bf16MatricesQwen3 } from '../src/model/bf16-matrices.js';
import { Qwen3, type TokenBatch } from '../src/model/qwen3.js';
import { initRandomWeights, readWeights, uploadEach, zerosLike } from '../src/model/weights.js';
import { packBf16, unpackBf16 } from '../src/ops/bf16.js';
import { tinyOddQwen3 } from './model-shapes.js';
import { randn, relErr, runtime } from './util.js';
import { validatingRuntime } from './validating-device.js';
import { qwen3WeightShapes } from '../src/io/hf-model.js';

const bits = (x: Float32Array) => new Uint32Array(x.buffer, x.byteOffset, x.length);

describe('bf16 packing and widening', () => {
  it('rounds to nearest even on the host and widens exactly on the GPU, specials and an odd count included', async () => {
    const rt = await runtime();
    const specials = [0, -0, 1, -1, 1 + 2 ** -8, 1 + 3 * 2 ** -8, 3.4e38, -3.4e38, Infinity, -Infinity, NaN, 1e-40, -1e-40, 2 ** -126];
    const values = new Float32Array([...specials, ...randn(1001, 5, 3)]); // 1015 values: odd
    const packed = packBf16(values);
    expect(packed.length).toBe(508);
    // Ties go to the even bf16 neighbour: 1 + 2^-8 down to 1, 1 + 3 * 2^-8 up to 1 + 2^-6.
    const host = bf16ToF32(f32ToBf16(values));
    expect(host[4]).toBe(1);
    expect(host[5]).toBe(1 + 2 ** -6);
    expect(host[6]).toBe(Infinity); // past bf16's largest finite value
    expect(Number.isNaN(host[10]!)).toBe(true);
    const out = rt.empty([values.length]);
    const words = rt.upload(packed, [packed.length]);
    unpackBf16(rt, words, out);
    const gpu = await rt.read(out);
    expect(bits(gpu)).toEqual(bits(host));
    // Every normal value is within half a bf16 ulp (2^-8 relative) of the f32 it came from;
    // subnormals (1e-40) keep fewer bits, as in f32.
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (Number.isFinite(host[i]!) && Math.abs(v) >= 2 ** -126) expect(Math.abs(host[i]! - v) / Math.abs(v)).toBeLessThanOrEqual(2 ** -8);
    }
    expect(() => unpackBf16(rt, words, rt.empty([values.length + 2]))).toThrow(/508 words for 1017 values/);
    words.dispose();
    out.dispose();
  });
});

const tiny = tinyOddQwen3;

describe('Bf16MatricesQwen3', () => {
  it('gives the log-probs of an f32 model with its layer matrices rounded to bf16, bit for bit', async () => {
    const rt = await runtime();
    const init = initRandomWeights(rt, tiny, 21, 0.3);
    const weights = await readWeights(rt, init);
    for (const t of init.values()) t.dispose();
    const rounded = new Map([...weights].map(([name, w]) => [name, BF16_LAYER_MATRIX.test(name) ? bf16ToF32(f32ToBf16(w)) : w]));
    const matrices = [...weights.keys()].filter((n) => BF16_LAYER_MATRIX.test(n));
    expect(matrices).toHaveLength(7 * tiny.numLayers);
    const B = 3, T = 13;
    const batch: TokenBatch = { B, T, ids: Int32Array.from({ length: B * T }, (_, i) => (i * 29 + 3) % tiny.vocabSize) };
    const logprobsOf = async (model: Qwen3) => {
      const st = model.forward(batch, { temperature: 0.7 });
      const lp = await rt.read(st.logprobs);
      st.dispose();
      model.dispose();
      return lp;
    };
    const reference = await logprobsOf(await Bf16MatricesQwen3.fromWeights(rt, tiny, weights));
    const f32Model = async (values: ReadonlyMap<string, Float32Array>) => {
      const params = zerosLike(rt, tiny, 'w');
      await uploadEach(rt, params, async (name) => values.get(name)!);
      return new Qwen3(rt, tiny, params);
    };
    const roundedF32 = await logprobsOf(await f32Model(rounded));
    const exact = await logprobsOf(await f32Model(weights));
    expect(reference).toEqual(roundedF32);
    // The rounding took effect, and moved the log-probs by about what bf16's 2^-8 allows.
    expect(reference).not.toEqual(exact);
    const err = relErr(reference, exact);
    console.log(`bf16 reference vs the exact f32 model: log-prob rel err ${err.toExponential(2)}`);
    expect(err).toBeLessThan(1e-2);
  });

  it('widens matrices split over several bindings part by part, an odd count of values in a part included (stand-in device)', async () => {
    // A 2 KiB binding splits q [60, 20] into 4 parts of up to 16 rows, k and v [20, 20] into 2, o [20, 60]
    // into 3 of 8, gate and up [37, 20] into 3, and down [20, 37] into 13 + 7 rows (481 values: odd).
    const cfg = { ...tiny, maxPositionEmbeddings: 16 }; // a RoPE table within the binding
    const { rt, log } = validatingRuntime({ bindingBytes: 2048 });
    const shapes = qwen3WeightShapes(cfg);
    const zeros = new Map([...shapes].map(([name, shape]) => [name, new Float32Array(shape.reduce((a, b) => a * b, 1))]));
    const model = await Bf16MatricesQwen3.fromWeights(rt, cfg, zeros);
    const st = model.forward({ B: 1, T: 8, ids: Int32Array.from({ length: 8 }, (_, i) => i * 11) });
    st.dispose();
    rt.submit();
    expect(log.errors).toEqual([]);
    // Every part of every matrix was widened on its use, in every layer.
    expect(log.kernels.get('bf16_unpack:main:{}')).toBe(cfg.numLayers * (4 + 2 + 2 + 3 + 3 + 3 + 2));
    model.dispose();
  });

  it('refuses weights that lack a tensor or have one of the wrong size, naming it', async () => {
    const rt = await runtime();
    const init = initRandomWeights(rt, tiny, 1);
    const weights = await readWeights(rt, init);
    for (const t of init.values()) t.dispose();
    const live = rt.pool.liveBytes;
    const o = weights.get('model.layers.0.self_attn.o_proj.weight')!;
    weights.set('model.layers.0.self_attn.o_proj.weight', new Float32Array(5));
    await expect(Bf16MatricesQwen3.fromWeights(rt, tiny, weights)).rejects.toThrow(/model\.layers\.0\.self_attn\.o_proj\.weight has 5 values for shape \[20, 60\]/);
    weights.set('model.layers.0.self_attn.o_proj.weight', o);
    weights.delete('model.layers.1.mlp.up_proj.weight');
    await expect(Bf16MatricesQwen3.fromWeights(rt, tiny, weights)).rejects.toThrow(/missing weight model\.layers\.1\.mlp\.up_proj\.weight/);
    await expect(Bf16MatricesQwen3.fromReader(rt, tiny, async (name) => weights.get(name) ?? new Float32Array(3))).rejects.toThrow(/up_proj\.weight has 3 values/);
    expect(rt.pool.liveBytes).toBe(live); // what the failed builds had uploaded was given back
  });
});
