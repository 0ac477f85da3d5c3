// Reuses storage buffers by size class, so that steady-state training allocates
// no GPU memory: activations of step k+1 land in the buffers freed by step k.
const MiB = 1 << 20;

export function sizeClass(bytes: number): number {
  const b = Math.max(256, bytes);
  if (b <= 64 * MiB) return 2 ** Math.ceil(Math.log2(b));
  return Math.ceil(b / (16 * MiB)) * 16 * MiB;
}

/**
 * Bytes the pool allocates for a request: its size class, or, when the class would pass the
 * adapter's maxBufferSize, the request rounded up to 256 bytes, but never past that limit (which
 * need not be a multiple of 256). Null when the request itself does not fit.
 */
export function pooledSize(bytes: number, maxBufferBytes: number): number | null {
  const cls = sizeClass(bytes);
  if (cls <= maxBufferBytes) return cls;
  const fitted = Math.min(Math.ceil(bytes / 256) * 256, Math.floor(maxBufferBytes / 4) * 4);
  return bytes <= fitted ? fitted : null;
}

/**
 * Bytes a buffer of the request's own size takes (acquireExact): rounded up to WebGPU's 4, or null
 * past the adapter's maxBufferSize.
 */
export function exactSize(bytes: number, maxBufferBytes: number): number | null {
  const size = Math.max(4, Math.ceil(bytes / 4) * 4);
  return size <= maxBufferBytes ? size : null;
}

export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  /** Buffers of acquireExact: never reused (no other request has their size), destroyed at trim. */
  private readonly exact = new Set<GPUBuffer>();
  private readonly retired: GPUBuffer[] = [];
  private live = 0;
  private pooled = 0;
  peakBytes = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly maxBufferBytes: number,
  ) {}

  acquire(bytes: number, label: string): GPUBuffer {
    const cls = pooledSize(bytes, this.maxBufferBytes);
    if (cls === null) throw new Error(`buffer '${label}' needs ${bytes} bytes, more than the adapter's maxBufferSize ${this.maxBufferBytes}`);
    const list = this.free.get(cls);
    const reused = list?.pop();
    if (reused) {
      this.pooled -= cls;
      this.live += cls;
      return reused;
    }
    const buffer = this.device.createBuffer({
      size: cls,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      label,
    });
    this.live += cls;
    this.peakBytes = Math.max(this.peakBytes, this.live + this.pooled);
    return buffer;
  }

  /**
   * A buffer of the request's own size, outside the size classes, for a tensor that lives as long
   * as the run (a weight, a gradient, an AdamW moment): a class would waste up to half of it
   * (Qwen3-4B's f32 state takes 68.9 GiB in classes, 59.9 GiB exactly), and no other request
   * could reuse it anyway.
   */
  acquireExact(bytes: number, label: string): GPUBuffer {
    const size = exactSize(bytes, this.maxBufferBytes);
    if (size === null) throw new Error(`buffer '${label}' needs ${bytes} bytes, more than the adapter's maxBufferSize ${this.maxBufferBytes}`);
    const buffer = this.device.createBuffer({ size, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, label });
    this.exact.add(buffer);
    this.live += size;
    this.peakBytes = Math.max(this.peakBytes, this.live + this.pooled);
    return buffer;
  }

  release(buffer: GPUBuffer): void {
    if (this.exact.delete(buffer)) {
      // Commands recorded but not yet submitted may still use it: destroyed at the next trim.
      this.retired.push(buffer);
      this.live -= buffer.size;
      this.pooled += buffer.size;
      return;
    }
    const cls = buffer.size;
    let list = this.free.get(cls);
    if (!list) this.free.set(cls, (list = []));
    list.push(buffer);
    this.live -= cls;
    this.pooled += cls;
  }

  /** Destroys pooled (unused) buffers, e.g. before a phase with another memory shape. */
  trim(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    for (const b of this.retired) b.destroy();
    this.free.clear();
    this.retired.length = 0;
    this.pooled = 0;
  }

  get liveBytes(): number {
    return this.live;
  }

  /** Bytes held in released buffers, kept for reuse until trim. */
  get pooledBytes(): number {
    return this.pooled;
  }
}
