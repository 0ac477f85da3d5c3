// Optional per-kernel GPU timing with timestamp queries: when enabled, each
// dispatch gets its own compute pass whose begin/end timestamps are recorded.
const CAPACITY = 2048; // timestamp pairs per submit (WebGPU allows 4096 queries per set)

export class Profiler {
  readonly totals = new Map<string, { ns: number; count: number }>();
  private querySet: GPUQuerySet | null = null;
  private resolveBuf: GPUBuffer | null = null;
  private labels: string[] = [];
  private pending: { buffer: GPUBuffer; labels: string[] }[] = [];

  constructor(private readonly device: GPUDevice, readonly enabled: boolean) {
    if (enabled) {
      this.querySet = device.createQuerySet({ type: 'timestamp', count: CAPACITY * 2 });
      this.resolveBuf = device.createBuffer({ size: CAPACITY * 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    }
  }

  /** No room for another timed pass before the next submit. */
  get full(): boolean {
    return this.enabled && this.labels.length >= CAPACITY;
  }

  passDescriptor(label: string): GPUComputePassDescriptor {
    if (!this.querySet || this.labels.length >= CAPACITY) return {};
    const i = this.labels.length;
    this.labels.push(label);
    return { timestampWrites: { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } };
  }

  resolve(encoder: GPUCommandEncoder): void {
    if (!this.querySet || !this.resolveBuf || this.labels.length === 0) return;
    const n = this.labels.length;
    encoder.resolveQuerySet(this.querySet, 0, 2 * n, this.resolveBuf, 0);
    const read = this.device.createBuffer({ size: 16 * n, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    encoder.copyBufferToBuffer(this.resolveBuf, 0, read, 0, 16 * n);
    this.pending.push({ buffer: read, labels: this.labels });
    this.labels = [];
  }

  async collect(): Promise<void> {
    const pending = this.pending;
    this.pending = [];
    for (const { buffer, labels } of pending) {
      await buffer.mapAsync(GPUMapMode.READ);
      const ts = new BigUint64Array(buffer.getMappedRange());
      labels.forEach((label, i) => {
        const ns = Number(ts[2 * i + 1]! - ts[2 * i]!);
        const name = label.split(':').slice(0, 2).join(':');
        const t = this.totals.get(name) ?? { ns: 0, count: 0 };
        t.ns += ns;
        t.count++;
        this.totals.set(name, t);
      });
      buffer.unmap();
      buffer.destroy();
    }
  }

  table(): { kernel: string; ms: number; count: number }[] {
    return [...this.totals.entries()]
      .map(([kernel, t]) => ({ kernel, ms: t.ns / 1e6, count: t.count }))
      .sort((a, b) => b.ms - a.ms);
  }
}
