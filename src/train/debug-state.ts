// llm.c's "debug state": run the engine on a case file (inputs plus GRPO
// inputs and AdamW hyperparameters, the format of the PyTorch fixtures) and
// return every quantity the reference holds, under the same names.
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';
import { openSafetensors } from '../io/safetensors.js';
import { grpoLoss, sftLoss } from '../ops/losses.js';
import { Qwen3, type ForwardState } from '../model/qwen3.js';
import { loadHfWeights, readWeights } from '../model/weights.js';
import { KvSession } from '../model/kv-session.js';
import { AdamW } from './optimizer.js';

export interface DebugCase {
  B: number;
  T: number;
  inputIds: Int32Array;
  lossMask: Float32Array;
  grpo: { advantages: Float32Array; oldLogprobs: Float32Array; refLogprobs: Float32Array; clipEps: number; klCoef: number };
  adamw: { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; steps: number };
}

export async function readDebugCase(path: string): Promise<DebugCase> {
  const f = await openSafetensors(path);
  try {
    const shape = f.info('input_ids').shape;
    if (shape.length !== 2) throw new Error(`${path}: input_ids must be [B, T], found [${shape}]`);
    const [B, T] = shape as [number, number];
    const scalar = async (name: string) => (await f.readF32(name))[0]!;
    const betas = await f.readF32('adamw_betas');
    const nLosses = f.has('adamw_losses') ? f.info('adamw_losses').shape[0]! : 5;
    const c: DebugCase = {
      B, T,
      inputIds: await f.readI32('input_ids'),
      lossMask: await f.readF32('loss_mask'),
      grpo: {
        advantages: await f.readF32('grpo_advantages'),
        oldLogprobs: await f.readF32('grpo_old_logprobs'),
        refLogprobs: await f.readF32('grpo_ref_logprobs'),
        clipEps: await scalar('grpo_clip_eps'),
        klCoef: await scalar('grpo_kl_coef'),
      },
      adamw: { lr: await scalar('adamw_lr'), beta1: betas[0]!, beta2: betas[1]!, eps: await scalar('adamw_eps'), weightDecay: await scalar('adamw_weight_decay'), steps: nLosses },
    };
    if (c.lossMask.length !== B * T) throw new Error(`${path}: loss_mask has ${c.lossMask.length} values, expected ${B * T}`);
    if (c.grpo.advantages.length !== B) throw new Error(`${path}: grpo_advantages has ${c.grpo.advantages.length} values, expected B = ${B}`);
    for (const [k, v] of [['grpo_old_logprobs', c.grpo.oldLogprobs], ['grpo_ref_logprobs', c.grpo.refLogprobs]] as const) {
      if (v.length !== B * (T - 1)) throw new Error(`${path}: ${k} has ${v.length} values, expected B*(T-1) = ${B * (T - 1)}`);
    }
    return c;
  } finally {
    await f.close();
  }
}

/** [B, T-1] (prediction of token t+1 at position t) -> [B*T] token layout with 0 at each last position. */
export function shiftedToTokens(x: Float32Array, B: number, T: number): Float32Array {
  const out = new Float32Array(B * T);
  for (let b = 0; b < B; b++) for (let t = 0; t + 1 < T; t++) out[b * T + t] = x[b * (T - 1) + t]!;
  return out;
}

export function tokensToShifted(x: Float32Array, B: number, T: number): Float32Array {
  const out = new Float32Array(B * (T - 1));
  for (let b = 0; b < B; b++) for (let t = 0; t + 1 < T; t++) out[b * (T - 1) + t] = x[b * T + t]!;
  return out;
}

/** The loss mask of target tokens in token layout: position t predicts t+1, so it takes mask[t+1]. */
export function targetMask(lossMask: Float32Array, B: number, T: number): { mask: Float32Array; count: number } {
  const mask = new Float32Array(B * T);
  let count = 0;
  for (let b = 0; b < B; b++) for (let t = 0; t + 1 < T; t++) {
    mask[b * T + t] = lossMask[b * T + t + 1]!;
    count += mask[b * T + t]!;
  }
  if (count <= 0) throw new Error('loss mask selects no target token');
  return { mask, count };
}

export type DebugState = Map<string, { shape: number[]; data: Float32Array }>;

export async function computeDebugState(rt: Runtime, modelDir: string, c: DebugCase): Promise<DebugState> {
  const { B, T } = c;
  const N = B * T;
  const { config, params } = await loadHfWeights(rt, modelDir);
  const model = new Qwen3(rt, config, params);
  const out: DebugState = new Map();
  const batch = { B, T, ids: c.inputIds };
  const { mask, count } = targetMask(c.lossMask, B, T);
  const maskT = rt.upload(mask, [N], 'mask');
  const loss = rt.zeros([1], 'f32', 'loss');
  const dLogprobs = rt.empty([N], 'f32', 'dlogprobs');
  const V = config.vocabSize;

  const gradsOut = async (prefix: string) => {
    for (const [name, data] of await readWeights(rt, model.grads!)) out.set(`${prefix}.grad.${name}`, { shape: shapeOf(model, name), data });
  };
  const runSft = (st: ForwardState) => sftLoss(rt, st.logprobs, maskT, 1 / count, loss, dLogprobs, N);

  // SFT forward, loss and gradients (with full logits for the comparison).
  let st = model.forward(batch, { logits: true });
  out.set('logits', { shape: [B, T, V], data: await rt.read(st.logits!) });
  out.set('logprobs', { shape: [B, T - 1], data: tokensToShifted(await rt.read(st.logprobs), B, T) });
  runSft(st);
  model.zeroGrads();
  model.backward(st, dLogprobs);
  out.set('sft_loss', { shape: [1], data: await rt.read(loss) });
  await gradsOut('sft');
  st.dispose();

  // GRPO loss and gradients on the same tokens.
  const advTokens = new Float32Array(N);
  for (let b = 0; b < B; b++) advTokens.fill(c.grpo.advantages[b]!, b * T, (b + 1) * T);
  const tensors: Tensor[] = [
    rt.upload(shiftedToTokens(c.grpo.oldLogprobs, B, T), [N], 'old'),
    rt.upload(shiftedToTokens(c.grpo.refLogprobs, B, T), [N], 'ref'),
    rt.upload(advTokens, [N], 'adv'),
  ];
  const stats = rt.zeros([4]);
  st = model.forward(batch);
  grpoLoss(rt, st.logprobs, tensors[0]!, tensors[1]!, tensors[2]!, maskT, 1 / count, { clipEps: c.grpo.clipEps, klCoef: c.grpo.klCoef }, loss, dLogprobs, stats, N);
  model.zeroGrads();
  model.backward(st, dLogprobs);
  out.set('grpo_loss', { shape: [1], data: await rt.read(loss) });
  await gradsOut('grpo');
  st.dispose();

  out.set('decode_logits', { shape: [B, T, V], data: await decodeLogits(model, c) });

  // AdamW: the SFT loss before each step.
  const opt = new AdamW(rt, config, { ...c.adamw });
  const losses = new Float32Array(c.adamw.steps);
  for (let s = 0; s < c.adamw.steps; s++) {
    st = model.forward(batch);
    runSft(st);
    model.zeroGrads();
    model.backward(st, dLogprobs);
    opt.step(model.params, model.grads!);
    losses[s] = (await rt.read(loss))[0]!;
    st.dispose();
  }
  out.set('adamw_losses', { shape: [c.adamw.steps], data: losses });

  for (const t of [...tensors, stats, maskT, loss, dLogprobs]) t.dispose();
  opt.dispose();
  model.dispose();
  return out;
}

/**
 * Logits through the KV cache: prefill the first ceil(T/2) tokens, then feed
 * the rest one token per step, recording the logits at every position [B, T, V].
 */
async function decodeLogits(model: Qwen3, c: DebugCase): Promise<Float32Array> {
  const { rt } = model;
  const { B, T } = c;
  const V = model.cfg.vocabSize;
  const all = rt.empty([B * T, V], 'f32', 'decode-logits');
  const session = new KvSession(model, B, T);
  const Tp = Math.ceil(T / 2);
  const prompts = Array.from({ length: B }, (_, b) => c.inputIds.subarray(b * T, b * T + Tp));
  session.prefill(prompts, (logits, rowStart, rows) => {
    for (let r = rowStart; r < rowStart + rows; r++) {
      const b = Math.floor(r / Tp), t = r % Tp;
      rt.copy(logits, all, V, (r - rowStart) * V, (b * T + t) * V);
    }
  }, true);
  for (let t = Tp; t < T; t++) {
    const ids = Int32Array.from({ length: B }, (_, b) => c.inputIds[b * T + t]!);
    const slots = Int32Array.from({ length: B }, (_, b) => b);
    session.step(ids, slots, new Int32Array(B).fill(t), (logits, rowStart, rows) => {
      for (let r = rowStart; r < rowStart + rows; r++) rt.copy(logits, all, V, (r - rowStart) * V, (r * T + t) * V);
    });
  }
  const data = await rt.read(all);
  all.dispose();
  session.dispose();
  return data;
}

function shapeOf(model: Qwen3, name: string): number[] {
  const t = model.params.get(name)!;
  return name.endsWith('norm.weight') ? [t.shape[1]] : [...t.shape];
}
