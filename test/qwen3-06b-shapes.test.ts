// Qwen3-0.6B's exact tensor shapes (random weights): its f32 embedding (622 MB)
// is larger than a storage binding may be (128 MiB on lavapipe), so it is
// stored and used as row blocks. One forward pass on a few tokens whose ids
// live in different blocks proves the gather and the LM-head paths.
import { describe, expect, it } from 'vitest';
import { parseQwen3Config } from '../src/io/hf-model.js';
import { Qwen3 } from '../src/model/qwen3.js';
import { initRandomWeights, paramCount } from '../src/model/weights.js';
import { relErr, runtime } from './util.js';

const QWEN3_06B = {
  model_type: 'qwen3', vocab_size: 151936, hidden_size: 1024, intermediate_size: 3072, num_hidden_layers: 28,
  num_attention_heads: 16, num_key_value_heads: 8, head_dim: 128, rms_norm_eps: 1e-6, rope_theta: 1e6,
  max_position_embeddings: 40960, tie_word_embeddings: true, torch_dtype: 'bfloat16', hidden_act: 'silu',
};

describe('Qwen3-0.6B shapes', () => {
  it('runs a forward pass with the embedding split across bindings', async () => {
    const rt = await runtime();
    const cfg = parseQwen3Config(QWEN3_06B, 'qwen3-0.6b');
    const params = initRandomWeights(rt, cfg, 7);
    expect(paramCount(params)).toBe(596_049_920); // Qwen3-0.6B's parameter count with tied embeddings
    const embed = params.get('model.embed_tokens.weight')!;
    const partBytes = embed.parts.map((p) => p.rows * 1024 * 4);
    expect(embed.parts.length).toBeGreaterThan(1); // 622 MB cannot be one binding on any adapter we know
    for (const b of partBytes) expect(b).toBeLessThanOrEqual(rt.gpu.maxStorageBindingBytes);

    const model = new Qwen3(rt, cfg, params);
    // one id in the first block, one in a middle block, the very last row
    const ids = Int32Array.from([5, embed.parts[Math.floor(embed.parts.length / 2)]!.rowStart + 3, 151935, 42]);
    const st = model.forward({ B: 1, T: ids.length, ids }, { logits: true });
    const logits = await rt.read(st.logits!);
    const hF = await rt.read(st.hF);
    const W = await embed.read(rt);
    for (const v of logits) expect(Number.isFinite(v)).toBe(true);
    // random init really ran: N(0, 0.02^2) entries in every block
    for (const p of embed.parts) {
      const block = W.subarray(p.rowStart * 1024, (p.rowStart + p.rows) * 1024);
      let sq = 0;
      for (const v of block) sq += v * v;
      expect(Math.sqrt(sq / block.length)).toBeCloseTo(0.02, 3);
    }

    // The LM head over every block equals hF @ W^T computed on the CPU, for columns in every block.
    const V = 151936, H = 1024;
    const cols = embed.parts.flatMap((p) => [p.rowStart, p.rowStart + p.rows - 1]);
    for (let t = 0; t < ids.length; t++) {
      const got: number[] = [], want: number[] = [];
      for (const c of cols) {
        let s = 0;
        for (let k = 0; k < H; k++) s += hF[t * H + k]! * W[c * H + k]!;
        want.push(s);
        got.push(logits[t * V + c]!);
      }
      expect(relErr(got, want)).toBeLessThan(1e-5);
    }
    // The layer-0 input is the gathered embedding rows, whichever block holds them.
    const x0 = await rt.read(st.layers[0]!.xIn);
    for (let t = 0; t < ids.length; t++) {
      const row = W.subarray(ids[t]! * H, (ids[t]! + 1) * H);
      expect(Array.from(x0.subarray(t * H, (t + 1) * H))).toEqual(Array.from(row));
    }
    st.dispose();
    model.dispose();
  });
});
