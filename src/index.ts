// The package's public entry: runtime, checkpoint I/O, the Qwen3 model,
// generation, the PaTaRM method and its data layer.
export { Runtime } from './gpu/runtime.js';
export { getGpu, requestAdapter, GpuUnavailableError, type GpuInfo } from './gpu/device.js';
export { Tensor } from './gpu/tensor.js';
export { RowSplitTensor } from './gpu/row-split.js';
export * from './io/safetensors.js';
export * from './io/hf-model.js';
export { Qwen3, type TokenBatch, type ForwardState } from './model/qwen3.js';
export { loadHfWeights, initRandomWeights, readWeights, zerosLike, type ParamSet } from './model/weights.js';
export { KvSession } from './model/kv-session.js';
export { generate, type GenerateOptions, type Generation } from './model/generate.js';
export { AdamW, type AdamWConfig } from './train/optimizer.js';
export { computeDebugState, readDebugCase } from './train/debug-state.js';
export * from './patarm/index.js';
export * from './data/index.js';
export { loadTokenizer, Tokenizer, StreamDecoder, renderChat, checkPromptLength, TokenizerError } from './tokenizer/index.js';
export { loadTrainConfig, defaultTrainConfig, type TrainConfig } from './train/config.js';
export { runTraining } from './train/trainer.js';
export { sftStep } from './train/sft.js';
export { grpoStep, type GrpoStepConfig, type GrpoStepMetrics } from './train/grpo.js';
export { planMemory, formatPlan } from './train/memory-plan.js';
export { runEvaluation, scoreEvaluation, loadBenchmark, buildItems, type JudgeFn } from './eval/index.js';
export { judgeWithModel, loadJudge } from './eval/gpu-judge.js';
