// A 2-D tensor [rows, cols] stored as consecutive row blocks, each small enough
// for one storage binding. Qwen3-0.6B's f32 embedding (622 MB) does not fit the
// 128 MiB a binding may hold on some adapters; ops that take weights loop over
// the parts (a matmul writes the part's output columns, a gather picks the part
// holding the row, AdamW runs part by part).
import type { Runtime } from './runtime.js';
import type { Tensor } from './tensor.js';

export interface RowPart {
  rowStart: number;
  rows: number;
  tensor: Tensor; // [rows, cols]
}

export class RowSplitTensor {
  private constructor(
    readonly shape: readonly [number, number],
    readonly parts: readonly RowPart[],
    readonly label: string,
  ) {}

  /** Splits so that each part stays within `maxPartBytes` (default: the binding limit). */
  static zeros(rt: Runtime, rows: number, cols: number, label: string, maxPartBytes = rt.gpu.maxStorageBindingBytes): RowSplitTensor {
    const rowsPerPart = rowsPerPartFor(cols, maxPartBytes);
    const parts: RowPart[] = [];
    for (let r = 0; r < rows; r += rowsPerPart) {
      const n = Math.min(rowsPerPart, rows - r);
      // Weights, gradients and moments live as long as the run: buffers of their own size.
      parts.push({ rowStart: r, rows: n, tensor: rt.zeros([n, cols], 'f32', `${label}[${r}:${r + n}]`, true) });
    }
    return new RowSplitTensor([rows, cols], parts, label);
  }

  get size(): number {
    return this.shape[0] * this.shape[1];
  }

  /** Uploads [rows, cols] row-major data part by part. */
  write(rt: Runtime, data: Float32Array): void {
    if (data.length !== this.size) throw new Error(`${this.label}: ${data.length} values for shape [${this.shape}]`);
    const cols = this.shape[1];
    for (const p of this.parts) rt.write(p.tensor, data.subarray(p.rowStart * cols, (p.rowStart + p.rows) * cols));
  }

  async read(rt: Runtime): Promise<Float32Array> {
    const out = new Float32Array(this.size);
    const cols = this.shape[1];
    for (const p of this.parts) out.set(await rt.read(p.tensor), p.rowStart * cols);
    return out;
  }

  dispose(): void {
    for (const p of this.parts) p.tensor.dispose();
  }
}

/** Rows per block are a multiple of this when the limit allows: the matmul row tile, so a block
 * boundary keeps the vec4 kernels' alignment (6553-row blocks of Qwen3-14B sent every backward
 * matmul over them to the scalar kernel). */
export const ROW_BLOCK_MULTIPLE = 16;

export function rowsPerPartFor(cols: number, maxPartBytes: number, bytesPerValue = 4): number {
  const rows = Math.floor(maxPartBytes / (cols * bytesPerValue));
  if (rows < 1) throw new Error(`a row of ${cols} values of ${bytesPerValue} bytes exceeds the binding limit ${maxPartBytes}`);
  return rows >= ROW_BLOCK_MULTIPLE ? rows - (rows % ROW_BLOCK_MULTIPLE) : rows;
}
