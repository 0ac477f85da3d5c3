// The Qwen3 transformer: forward pass (keeping what backward needs) and
// backward pass, composed from the ops layer. Shapes: N = B*T tokens,
// H hidden, Hq/Hkv heads of D dims, I intermediate, V vocab.
import type { RowSplitTensor } from '../gpu/row-split.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';
import type { Qwen3Config } from '../io/hf-model.js';
import { attentionBackward, attentionForward, type AttentionShape } from '../ops/attention.js';
import { axpy, add } from '../ops/elementwise.js';
import { embeddingBackward, embeddingForward } from '../ops/embedding.js';
import { lmHeadBackward, lmHeadForward } from '../ops/lm-head.js';
import { linearBackward, linearForward } from '../ops/matmul.js';
import { rmsnormBackward, rmsnormForward } from '../ops/rmsnorm.js';
import { buildRopeTable, ropeBackward, ropeForward } from '../ops/rope.js';
import { swigluBackward, swigluForward } from '../ops/swiglu.js';
import { zerosLike, type ParamSet } from './weights.js';

/** B sequences of T tokens, token n = b*T + t. */
export interface TokenBatch {
  B: number;
  T: number;
  ids: Int32Array; // [B*T]
  /** Position ids [B*T]; default t for token (b, t). */
  positions?: Int32Array;
}

interface LayerActs {
  xIn: Tensor; rstd1: Tensor; h1: Tensor;
  qPre: Tensor; kPre: Tensor; rstdQ: Tensor; rstdK: Tensor;
  qRot: Tensor; kRot: Tensor; v: Tensor; attn: Tensor; lse: Tensor;
  xMid: Tensor; rstd2: Tensor; h2: Tensor;
  gate: Tensor; up: Tensor; act: Tensor;
}

/** What a forward pass leaves on the GPU; dispose() returns it to the pool. */
export interface ForwardState {
  batch: TokenBatch;
  N: number;
  ids: Tensor; positions: Tensor; targets: Tensor;
  /** Each layer's input [N, H]: all a recomputing backward needs of a layer. */
  layerInputs: Tensor[];
  /** Each layer's activations for backward; null where `recompute` left them to backward. */
  layers: (LayerActs | null)[];
  xOut: Tensor; rstdF: Tensor; hF: Tensor;
  /** logprobs[n] = log softmax(logits[n])[ids[n+1]] (0 target at each sequence's last token). */
  logprobs: Tensor; lseV: Tensor;
  logits?: Tensor; entropy?: Tensor;
  /** The forward's sampling temperature, which backward applies again. */
  temperature: number;
  /** The attention shape, which a recomputing backward needs again. */
  attnShape: AttentionShape;
  dispose(): void;
}

export interface ForwardOptions {
  /** Also return full [N, V] logits (only for small N*V: tests and tools). */
  logits?: boolean;
  entropy?: boolean;
  /**
   * Log-probs (and logits, entropy) of softmax(logits / temperature), default 1: GRPO's policy
   * and reference log-probs at the temperature the rollouts were sampled at, as verl does.
   */
  temperature?: number;
  /**
   * Activation recomputation (gradient checkpointing): keep only each layer's input and let
   * backward run the layer's forward again just before its backward. A layer's activations are
   * about 4 + 3 I/H + 4 Hq D/H times its input (22x for Qwen3-0.6B), so the activations kept
   * shrink to the inputs plus one layer's, for one more forward pass of the layers. The same
   * kernels run on the same inputs, so the gradients are bit for bit those without it.
   */
  recompute?: boolean;
}

export class Qwen3 {
  grads: ParamSet | null = null;
  private readonly rope: Tensor;

  constructor(readonly rt: Runtime, readonly cfg: Qwen3Config, readonly params: ParamSet) {
    this.rope = buildRopeTable(rt, cfg.headDim, cfg.ropeTheta, cfg.maxPositionEmbeddings);
  }

  protected p(name: string): RowSplitTensor {
    const t = this.params.get(name);
    if (!t) throw new Error(`Qwen3: missing weight ${name}`);
    return t;
  }

  private vec(set: ParamSet, name: string): Tensor {
    return set.get(name)!.parts[0]!.tensor;
  }

  get lmHeadName(): string {
    return this.cfg.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight';
  }

  /** Allocates (zeroed) gradient buffers on first use; later calls zero them. */
  zeroGrads(): ParamSet {
    if (!this.grads) this.grads = zerosLike(this.rt, this.cfg, 'grad');
    else for (const g of this.grads.values()) for (const part of g.parts) this.rt.fillZero(part.tensor);
    return this.grads;
  }

  forward(batch: TokenBatch, opts: ForwardOptions = {}): ForwardState {
    const { rt, cfg } = this;
    const { B, T } = batch;
    const N = B * T;
    if (batch.ids.length !== N) throw new Error(`forward: ${batch.ids.length} ids for B=${B}, T=${T}`);
    const D = cfg.headDim, Hq = cfg.numHeads, Hkv = cfg.numKvHeads;
    const positions = batch.positions ?? defaultPositions(B, T);
    this.checkTokens(batch.ids, positions);
    const targets = new Int32Array(N);
    for (let b = 0; b < B; b++) for (let t = 0; t + 1 < T; t++) targets[b * T + t] = batch.ids[b * T + t + 1]!;

    const idsT = rt.upload(batch.ids, [N], 'ids');
    const posT = rt.upload(positions, [N], 'positions');
    const targetsT = rt.upload(targets, [N], 'targets');
    const attnShape: AttentionShape = { B, T, Hq, Hkv, D, scale: 1 / Math.sqrt(D) };

    let x = rt.empty([N, cfg.hiddenSize], 'f32', 'x0');
    embeddingForward(rt, idsT, this.p('model.embed_tokens.weight'), x, N);
    const layerInputs: Tensor[] = [];
    const layers: (LayerActs | null)[] = [];
    for (let l = 0; l < cfg.numLayers; l++) {
      layerInputs.push(x);
      const a = this.layerForward(l, x, N, posT, this.trainingAttention(attnShape));
      if (opts.recompute) {
        disposeActs(a.acts);
        layers.push(null);
      } else {
        layers.push(a.acts);
      }
      x = a.xOut;
    }
    const { hF, rstdF } = this.finalNorm(x, N);
    const logprobs = rt.empty([N]), lseV = rt.empty([N]);
    const logits = opts.logits ? rt.empty([N, cfg.vocabSize], 'f32', 'logits') : undefined;
    const entropy = opts.entropy ? rt.empty([N], 'f32', 'entropy') : undefined;
    const temperature = opts.temperature ?? 1;
    lmHeadForward(rt, hF, this.p(this.lmHeadName), targetsT, logprobs, lseV, N, { logits, entropy, temperature });

    const all: Tensor[] = [idsT, posT, targetsT, x, rstdF, hF, logprobs, lseV, ...layerInputs];
    if (logits) all.push(logits);
    if (entropy) all.push(entropy);
    for (const a of layers) if (a) all.push(...actsBeyondInput(a));
    return {
      batch, N, ids: idsT, positions: posT, targets: targetsT, layerInputs, layers, xOut: x, rstdF, hF, logprobs, lseV, logits, entropy,
      temperature, attnShape,
      dispose: () => { for (const t of all) t.dispose(); },
    };
  }

  /** Causal attention over the training batch, keeping the log-sum-exp backward needs. */
  private trainingAttention(shape: AttentionShape) {
    return (qRot: Tensor, kRot: Tensor, v: Tensor, attn: Tensor): Tensor => {
      const lse = this.rt.empty([shape.B * shape.T, shape.Hq]);
      attentionForward(this.rt, qRot, kRot, v, attn, lse, shape);
      return lse;
    };
  }

  /** Token ids inside the vocabulary and positions inside the model's context, checked on the CPU. */
  checkTokens(ids: Int32Array, positions: Int32Array): void {
    const { vocabSize, maxPositionEmbeddings } = this.cfg;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (id < 0 || id >= vocabSize) throw new Error(`token id ${id} at index ${i} is outside the vocabulary (0..${vocabSize - 1})`);
      const pos = positions[i]!;
      if (pos < 0 || pos >= maxPositionEmbeddings) throw new Error(`position ${pos} at index ${i} is outside the model's context (max_position_embeddings ${maxPositionEmbeddings})`);
    }
  }

  /**
   * One decoder layer on N tokens. `attention` runs the attention core on the
   * rotated q/k and v (training: causal over the batch; generation: through
   * the KV cache) and returns the log-sum-exp tensor when backward needs it.
   * Returns the layer's output and everything backward needs.
   */
  layerForward(
    l: number, x: Tensor, N: number, positions: Tensor,
    attention: (qRot: Tensor, kRot: Tensor, v: Tensor, attnOut: Tensor) => Tensor | null,
  ): { xOut: Tensor; acts: LayerActs } {
    const { rt, cfg } = this;
    const a = this.layerActs(l, x, N, positions, attention);
    const mlp = rt.empty([N, cfg.hiddenSize]);
    linearForward(rt, a.act, this.p(`model.layers.${l}.mlp.down_proj.weight`), mlp, N);
    const xOut = rt.empty([N, cfg.hiddenSize], 'f32', `x${l + 1}`);
    add(rt, a.xMid, mlp, xOut);
    mlp.dispose();
    return { xOut, acts: a };
  }

  /**
   * A layer's forward up to what its backward reads: everything but the MLP's down projection and
   * the residual add after it (whose output the next layer, not this one's backward, needs).
   */
  private layerActs(
    l: number, x: Tensor, N: number, positions: Tensor,
    attention: (qRot: Tensor, kRot: Tensor, v: Tensor, attnOut: Tensor) => Tensor | null,
  ): LayerActs {
    const { rt, cfg } = this;
    const H = cfg.hiddenSize, D = cfg.headDim, Hq = cfg.numHeads, Hkv = cfg.numKvHeads, I = cfg.intermediateSize;
    const pre = `model.layers.${l}.`;
    const w = (name: string) => this.vec(this.params, pre + name);
    const a = {} as LayerActs;
    a.xIn = x;
    a.rstd1 = rt.empty([N]); a.h1 = rt.empty([N, H]);
    rmsnormForward(rt, x, w('input_layernorm.weight'), a.h1, a.rstd1, N, H, cfg.rmsNormEps);
    a.qPre = rt.empty([N, Hq * D]); a.kPre = rt.empty([N, Hkv * D]); a.v = rt.empty([N, Hkv * D]);
    linearForward(rt, a.h1, this.p(pre + 'self_attn.q_proj.weight'), a.qPre, N);
    linearForward(rt, a.h1, this.p(pre + 'self_attn.k_proj.weight'), a.kPre, N);
    linearForward(rt, a.h1, this.p(pre + 'self_attn.v_proj.weight'), a.v, N);
    const qN = rt.empty([N, Hq * D]), kN = rt.empty([N, Hkv * D]);
    a.rstdQ = rt.empty([N * Hq]); a.rstdK = rt.empty([N * Hkv]);
    rmsnormForward(rt, a.qPre, w('self_attn.q_norm.weight'), qN, a.rstdQ, N * Hq, D, cfg.rmsNormEps);
    rmsnormForward(rt, a.kPre, w('self_attn.k_norm.weight'), kN, a.rstdK, N * Hkv, D, cfg.rmsNormEps);
    a.qRot = rt.empty([N, Hq * D]); a.kRot = rt.empty([N, Hkv * D]);
    ropeForward(rt, qN, positions, this.rope, a.qRot, N, Hq, D);
    ropeForward(rt, kN, positions, this.rope, a.kRot, N, Hkv, D);
    qN.dispose(); kN.dispose();
    a.attn = rt.empty([N, Hq * D]);
    const lse = attention(a.qRot, a.kRot, a.v, a.attn);
    a.lse = lse ?? rt.empty([1]);
    const o = rt.empty([N, H]);
    linearForward(rt, a.attn, this.p(pre + 'self_attn.o_proj.weight'), o, N);
    a.xMid = rt.empty([N, H]);
    add(rt, x, o, a.xMid);
    o.dispose();
    a.rstd2 = rt.empty([N]); a.h2 = rt.empty([N, H]);
    rmsnormForward(rt, a.xMid, w('post_attention_layernorm.weight'), a.h2, a.rstd2, N, H, cfg.rmsNormEps);
    a.gate = rt.empty([N, I]); a.up = rt.empty([N, I]); a.act = rt.empty([N, I]);
    linearForward(rt, a.h2, this.p(pre + 'mlp.gate_proj.weight'), a.gate, N);
    linearForward(rt, a.h2, this.p(pre + 'mlp.up_proj.weight'), a.up, N);
    swigluForward(rt, a.gate, a.up, a.act, N * I);
    return a;
  }

  /** Final RMSNorm of the residual stream: hF = rmsnorm(x) * model.norm.weight. */
  finalNorm(x: Tensor, N: number): { hF: Tensor; rstdF: Tensor } {
    const rstdF = this.rt.empty([N]), hF = this.rt.empty([N, this.cfg.hiddenSize]);
    rmsnormForward(this.rt, x, this.vec(this.params, 'model.norm.weight'), hF, rstdF, N, this.cfg.hiddenSize, this.cfg.rmsNormEps);
    return { hF, rstdF };
  }

  get lmHead(): RowSplitTensor {
    return this.p(this.lmHeadName);
  }

  get embedding(): RowSplitTensor {
    return this.p('model.embed_tokens.weight');
  }

  /**
   * Back-propagates dL/dlogprobs [N] through the forward state, accumulating
   * into `this.grads` (call zeroGrads() before the first micro-batch).
   */
  backward(st: ForwardState, dLogprobs: Tensor): void {
    const { rt, cfg } = this;
    const grads = this.grads;
    if (!grads) throw new Error('backward: call zeroGrads() first');
    const { N } = st;
    const H = cfg.hiddenSize, D = cfg.headDim, Hq = cfg.numHeads, Hkv = cfg.numKvHeads, I = cfg.intermediateSize;
    const g = (name: string) => grads.get(name)!;

    const dhF = rt.empty([N, H]);
    lmHeadBackward(rt, st.hF, this.p(this.lmHeadName), st.targets, st.lseV, dLogprobs, dhF, g(this.lmHeadName), N, { temperature: st.temperature });
    const dx = rt.empty([N, H], 'f32', 'dx');
    rmsnormBackward(rt, st.xOut, this.vec(this.params, 'model.norm.weight'), st.rstdF, dhF, dx, this.vec(grads, 'model.norm.weight'), N, H);
    dhF.dispose();

    const dH = rt.empty([N, H]);      // gradient w.r.t. a normed input (h1 / h2)
    const dNormed = rt.empty([N, H]); // gradient through an RMSNorm, added to dx
    for (let l = cfg.numLayers - 1; l >= 0; l--) {
      const pre = `model.layers.${l}.`;
      const kept = st.layers[l];
      const a = kept ?? this.layerActs(l, st.layerInputs[l]!, N, st.positions, this.trainingAttention(st.attnShape));
      // MLP: x = xMid + down(silu(gate) * up)
      const dAct = rt.empty([N, I]), dGate = rt.empty([N, I]), dUp = rt.empty([N, I]);
      linearBackward(rt, a.act, this.p(pre + 'mlp.down_proj.weight'), dx, dAct, g(pre + 'mlp.down_proj.weight'), N);
      swigluBackward(rt, a.gate, a.up, dAct, dGate, dUp, N * I);
      linearBackward(rt, a.h2, this.p(pre + 'mlp.gate_proj.weight'), dGate, dH, g(pre + 'mlp.gate_proj.weight'), N);
      linearBackward(rt, a.h2, this.p(pre + 'mlp.up_proj.weight'), dUp, dH, g(pre + 'mlp.up_proj.weight'), N, true);
      dAct.dispose(); dGate.dispose(); dUp.dispose();
      rmsnormBackward(rt, a.xMid, this.vec(this.params, pre + 'post_attention_layernorm.weight'), a.rstd2, dH, dNormed,
        this.vec(grads, pre + 'post_attention_layernorm.weight'), N, H);
      axpy(rt, 1, dNormed, dx);

      // Attention: xMid = xIn + o_proj(attn(rope(qnorm(q)), rope(knorm(k)), v))
      const dAttn = rt.empty([N, Hq * D]);
      linearBackward(rt, a.attn, this.p(pre + 'self_attn.o_proj.weight'), dx, dAttn, g(pre + 'self_attn.o_proj.weight'), N);
      const dqRot = rt.empty([N, Hq * D]), dkRot = rt.empty([N, Hkv * D]), dv = rt.empty([N, Hkv * D]);
      attentionBackward(rt, a.qRot, a.kRot, a.v, a.attn, a.lse, dAttn, dqRot, dkRot, dv, st.attnShape);
      dAttn.dispose();
      const dqN = rt.empty([N, Hq * D]), dkN = rt.empty([N, Hkv * D]);
      ropeBackward(rt, dqRot, st.positions, this.rope, dqN, N, Hq, D);
      ropeBackward(rt, dkRot, st.positions, this.rope, dkN, N, Hkv, D);
      dqRot.dispose(); dkRot.dispose();
      const dqPre = rt.empty([N, Hq * D]), dkPre = rt.empty([N, Hkv * D]);
      rmsnormBackward(rt, a.qPre, this.vec(this.params, pre + 'self_attn.q_norm.weight'), a.rstdQ, dqN, dqPre,
        this.vec(grads, pre + 'self_attn.q_norm.weight'), N * Hq, D);
      rmsnormBackward(rt, a.kPre, this.vec(this.params, pre + 'self_attn.k_norm.weight'), a.rstdK, dkN, dkPre,
        this.vec(grads, pre + 'self_attn.k_norm.weight'), N * Hkv, D);
      dqN.dispose(); dkN.dispose();
      linearBackward(rt, a.h1, this.p(pre + 'self_attn.q_proj.weight'), dqPre, dH, g(pre + 'self_attn.q_proj.weight'), N);
      linearBackward(rt, a.h1, this.p(pre + 'self_attn.k_proj.weight'), dkPre, dH, g(pre + 'self_attn.k_proj.weight'), N, true);
      linearBackward(rt, a.h1, this.p(pre + 'self_attn.v_proj.weight'), dv, dH, g(pre + 'self_attn.v_proj.weight'), N, true);
      dqPre.dispose(); dkPre.dispose(); dv.dispose();
      rmsnormBackward(rt, a.xIn, this.vec(this.params, pre + 'input_layernorm.weight'), a.rstd1, dH, dNormed,
        this.vec(grads, pre + 'input_layernorm.weight'), N, H);
      axpy(rt, 1, dNormed, dx);
      if (!kept) disposeActs(a); // recomputed for this layer only: the next layer reuses the buffers
    }
    embeddingBackward(rt, st.batch.ids, dx, g('model.embed_tokens.weight'));
    dH.dispose(); dNormed.dispose(); dx.dispose();
  }

  dispose(): void {
    this.rope.dispose();
    for (const t of this.params.values()) t.dispose();
    if (this.grads) for (const t of this.grads.values()) t.dispose();
  }
}

/** A layer's activations other than its input, which the layer before produced and owns. */
function actsBeyondInput(a: LayerActs): Tensor[] {
  return Object.entries(a).filter(([name]) => name !== 'xIn').map(([, t]) => t as Tensor);
}

function disposeActs(a: LayerActs): void {
  for (const t of actsBeyondInput(a)) t.dispose();
}

export function defaultPositions(B: number, T: number): Int32Array {
  const pos = new Int32Array(B * T);
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) pos[b * T + t] = t;
  return pos;
}

/** Floats per token of the widest activation a layer allocates (MLP gate/up, attention, residual). */
export function widestActivationFloats(cfg: Qwen3Config): number {
  return Math.max(cfg.intermediateSize, cfg.numHeads * cfg.headDim, cfg.hiddenSize);
}

/** Most tokens one layer pass takes when its widest activation must fit one storage binding (a prefill pass). */
export function tokensPerBinding(cfg: Qwen3Config, bindingBytes: number): number {
  return Math.max(1, Math.floor(bindingBytes / (4 * widestActivationFloats(cfg))));
}
