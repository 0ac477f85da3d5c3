// Model configs the tests share: Qwen3 at real sizes (the Hugging Face config.json values), for
// the engine's launch and allocation code on the validating stand-in device; and a tiny one with
// odd sizes for the GPU tests that compare whole forward and backward passes.
import type { Qwen3Config } from '../src/io/hf-model.js';

/**
 * No dimension a multiple of a tile, two KV heads shared by three query heads each, several
 * layers and an untied head: every kind of weight, at a size lavapipe runs in a blink.
 */
export const tinyOddQwen3: Qwen3Config = {
  vocabSize: 97, hiddenSize: 20, numLayers: 3, numHeads: 6, numKvHeads: 2, headDim: 10, intermediateSize: 37,
  rmsNormEps: 1e-6, ropeTheta: 10000, maxPositionEmbeddings: 64, tieWordEmbeddings: false, torchDtype: 'float32',
};

export const MiB = 2 ** 20;

export const qwen3Shape = (size: '0.6B' | '14B'): Qwen3Config => ({
  vocabSize: 151936, headDim: 128, rmsNormEps: 1e-6, ropeTheta: 1e6, maxPositionEmbeddings: 40960, torchDtype: 'bfloat16',
  ...(size === '0.6B'
    ? { hiddenSize: 1024, numLayers: 28, numHeads: 16, numKvHeads: 8, intermediateSize: 3072, tieWordEmbeddings: true }
    : { hiddenSize: 5120, numLayers: 40, numHeads: 40, numKvHeads: 8, intermediateSize: 17408, tieWordEmbeddings: false }),
});
