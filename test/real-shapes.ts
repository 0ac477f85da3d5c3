// Qwen3 configs at real sizes (the Hugging Face config.json values), for the tests that run the
// engine's launch and allocation code at those shapes on the validating stand-in device.
import type { Qwen3Config } from '../src/io/hf-model.js';

export const MiB = 2 ** 20;

export const qwen3Shape = (size: '0.6B' | '14B'): Qwen3Config => ({
  vocabSize: 151936, headDim: 128, rmsNormEps: 1e-6, ropeTheta: 1e6, maxPositionEmbeddings: 40960, torchDtype: 'bfloat16',
  ...(size === '0.6B'
    ? { hiddenSize: 1024, numLayers: 28, numHeads: 16, numKvHeads: 8, intermediateSize: 3072, tieWordEmbeddings: true }
    : { hiddenSize: 5120, numLayers: 40, numHeads: 40, numKvHeads: 8, intermediateSize: 17408, tieWordEmbeddings: false }),
});
