// One SFT optimizer step: token-masked cross-entropy on the completion tokens
// of a batch, accumulated over micro-batches (the token-mean is over the whole
// batch, so micro-batching does not change the gradient), then AdamW.
import { axpy } from '../ops/elementwise.js';
import { sftLoss } from '../ops/losses.js';
import type { Qwen3 } from '../model/qwen3.js';
import type { AdamW } from './optimizer.js';
import { chunks, packSequences, type PromptCompletion } from './sequences.js';

export interface SftStepOptions {
  microBatchRows: number;
  padId: number;
  lr: number;
  maxSeqLen?: number;
  /** Recompute each layer's activations in backward (ForwardOptions.recompute); default false. */
  recompute?: boolean;
}

export interface SftStepResult {
  loss: number;
  targetTokens: number;
  tokens: number;
  gradNorm: number;
  seconds: number;
}

export async function sftStep(model: Qwen3, opt: AdamW, rows: readonly PromptCompletion[], o: SftStepOptions): Promise<SftStepResult> {
  const { rt } = model;
  const t0 = performance.now();
  const packed = chunks(rows, o.microBatchRows).map((mb) => packSequences(mb, o.padId, o.maxSeqLen));
  const total = packed.reduce((s, p) => s + p.count, 0);
  if (total === 0) throw new Error('SFT batch has no target tokens');
  const lossSum = rt.zeros([1], 'f32', 'sft-loss-sum');
  const loss = rt.empty([1], 'f32', 'sft-loss');
  model.zeroGrads();
  let tokens = 0;
  for (const p of packed) {
    const N = p.batch.B * p.batch.T;
    tokens += N;
    const st = model.forward(p.batch, { recompute: o.recompute });
    const maskT = rt.upload(p.mask, [N], 'mask');
    const dLogprobs = rt.empty([N]);
    sftLoss(rt, st.logprobs, maskT, 1 / total, loss, dLogprobs, N);
    axpy(rt, 1, loss, lossSum);
    model.backward(st, dLogprobs);
    st.dispose();
    maskT.dispose();
    dLogprobs.dispose();
  }
  opt.step(model.params, model.grads!, o.lr);
  // one readback for the step's metrics: [loss, grad norm^2]
  const metrics = rt.empty([2]);
  rt.copy(lossSum, metrics, 1, 0, 0);
  rt.copy(opt.gradNormSq, metrics, 1, 0, 1);
  const [lossValue, gradNormSq] = await rt.read(metrics);
  for (const t of [lossSum, loss, metrics]) t.dispose();
  return { loss: lossValue!, targetTokens: total, tokens, gradNorm: Math.sqrt(gradNormSq!), seconds: (performance.now() - t0) / 1000 };
}
