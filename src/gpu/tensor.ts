// A typed view of a range of a GPU buffer. Shapes are row-major; all kernels
// address tensors in elements relative to the bound range.
export type DType = 'f32' | 'i32' | 'u32';

export interface TensorOwner {
  release(buffer: GPUBuffer): void;
}

export class Tensor {
  private released = false;
  constructor(
    readonly buffer: GPUBuffer,
    readonly shape: readonly number[],
    readonly dtype: DType = 'f32',
    readonly byteOffset = 0,
    private readonly owner: TensorOwner | null = null,
    readonly label = '',
  ) {}

  get size(): number {
    return numel(this.shape);
  }

  get byteLength(): number {
    return this.size * 4;
  }

  /** Returns the buffer to its pool (once; a tensor without an owner has nothing to return). */
  dispose(): void {
    if (this.released || !this.owner) return;
    this.released = true;
    this.owner.release(this.buffer);
  }

  get disposed(): boolean {
    return this.released;
  }
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
