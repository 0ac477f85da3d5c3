// Errors of the GPU layer that the layers above tell apart. No imports: the evaluation layer,
// which runs without a GPU, can name them without loading the WebGPU bindings.

/**
 * The device ran out of memory: the command lines say what takes less (the memory planner of
 * train.js, eval.js's and generate.js's precision and budget options), which this layer does not know.
 */
export class GpuOutOfMemoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GpuOutOfMemoryError';
  }
}

/** A WebGPU error reported asynchronously, as the error the run stops with. */
export function runtimeErrorOf(e: GPUError): Error {
  // Dawn's Node bindings name their error classes but need not put them on globalThis.
  if (e.constructor?.name === 'GPUOutOfMemoryError') return new GpuOutOfMemoryError(`WebGPU: the GPU is out of memory (${e.message})`);
  return new Error(`WebGPU error: ${e.message}`);
}
