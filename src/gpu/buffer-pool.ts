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

export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
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

  release(buffer: GPUBuffer): void {
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
    this.free.clear();
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
