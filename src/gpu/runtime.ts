// The GPU runtime: buffer pool, kernel (pipeline) cache, and a step recorder
// that puts every dispatch of a step into one command encoder, with the
// uniform parameters of all dispatches packed into one arena buffer.
import { BufferPool } from './buffer-pool.js';
import { getGpu, type GpuInfo } from './device.js';
import { readKernelSource } from './kernel-source.js';
import { Profiler } from './profiler.js';
import { Tensor, numel, type DType } from './tensor.js';
import { runtimeErrorOf } from './errors.js';
import { parseWgslLayout, type WgslLayout } from './wgsl-layout.js';

export interface Kernel {
  readonly key: string;
  readonly pipeline: GPUComputePipeline;
  readonly bindGroupLayout: GPUBindGroupLayout;
  readonly layout: WgslLayout;
}

export type ParamValues = Record<string, number>;
export type BindingValues = Record<string, Tensor>;

export interface DispatchStats {
  dispatches: number;
  submits: number;
  readbacks: number;
}

const ARENA_SLOTS = 2048;

export class Runtime {
  readonly device: GPUDevice;
  readonly pool: BufferPool;
  readonly stats: DispatchStats = { dispatches: 0, submits: 0, readbacks: 0 };
  readonly profiler: Profiler;
  private readonly kernels = new Map<string, Kernel>();
  private readonly slotBytes: number;
  private readonly arena: GPUBuffer;
  private readonly arenaMirror: ArrayBuffer;
  private arenaUsed = 0;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;

  private constructor(readonly gpu: GpuInfo, profile: boolean) {
    this.device = gpu.device;
    this.pool = new BufferPool(this.device, gpu.maxBufferBytes);
    this.slotBytes = Math.max(256, gpu.uniformOffsetAlign);
    this.arena = this.device.createBuffer({
      size: this.slotBytes * ARENA_SLOTS,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      label: 'uniform-arena',
    });
    this.arenaMirror = new ArrayBuffer(this.slotBytes * ARENA_SLOTS);
    this.profiler = new Profiler(this.device, profile && gpu.hasTimestamps);
    // WebGPU reports invalid shaders and bindings asynchronously; keep the first
    // one and raise it at the next sync or readback instead of computing on.
    this.device.addEventListener('uncapturederror', (ev) => {
      this.deviceError ??= runtimeErrorOf((ev as GPUUncapturedErrorEvent).error);
    });
  }

  private deviceError: Error | null = null;

  /** Throws the first WebGPU validation error seen since the last check. */
  throwIfDeviceError(): void {
    const err = this.deviceError;
    if (err) {
      this.deviceError = null;
      throw err;
    }
  }

  static async create(opts: { profile?: boolean } = {}): Promise<Runtime> {
    return new Runtime(await getGpu(), opts.profile ?? false);
  }

  /** A runtime on a device opened elsewhere (a fork's own device, or a test's validating stand-in). */
  static onDevice(gpu: GpuInfo, opts: { profile?: boolean } = {}): Runtime {
    return new Runtime(gpu, opts.profile ?? false);
  }

  // ---- memory ----------------------------------------------------------------

  /**
   * Uninitialised tensor from the pool (contents are whatever the last user left). `exact`: a
   * buffer of its own size for a tensor that lives as long as the run (BufferPool.acquireExact).
   */
  empty(shape: readonly number[], dtype: DType = 'f32', label = '', exact = false): Tensor {
    const bytes = numel(shape) * 4;
    if (bytes > this.gpu.maxStorageBindingBytes) {
      throw new Error(
        `tensor '${label}' [${shape}] is ${bytes} bytes, more than one storage binding may hold ` +
          `(${this.gpu.maxStorageBindingBytes}); split it by rows (Param) or use a smaller micro-batch`,
      );
    }
    const buffer = exact ? this.pool.acquireExact(bytes, label) : this.pool.acquire(Math.max(4, bytes), label);
    return new Tensor(buffer, shape, dtype, 0, this.pool, label);
  }

  zeros(shape: readonly number[], dtype: DType = 'f32', label = '', exact = false): Tensor {
    const t = this.empty(shape, dtype, label, exact);
    this.fillZero(t);
    return t;
  }

  upload(data: Float32Array | Int32Array | Uint32Array, shape: readonly number[], label = '', exact = false): Tensor {
    if (data.length !== numel(shape)) throw new Error(`upload '${label}': ${data.length} values for shape [${shape}]`);
    const dtype: DType = data instanceof Float32Array ? 'f32' : data instanceof Int32Array ? 'i32' : 'u32';
    const t = this.empty(shape, dtype, label, exact);
    this.write(t, data);
    return t;
  }

  /**
   * CPU -> GPU copy. queue.writeBuffer runs before commands still being
   * recorded, so those are submitted first to keep program order.
   */
  write(t: Tensor, data: Float32Array | Int32Array | Uint32Array, elementOffset = 0): void {
    if (elementOffset + data.length > t.size) throw new Error(`write '${t.label}': ${data.length} values past the end`);
    this.submit();
    this.device.queue.writeBuffer(t.buffer, t.byteOffset + elementOffset * 4, data.buffer, data.byteOffset, data.byteLength);
  }

  fillZero(t: Tensor): void {
    const enc = this.commandEncoder();
    this.endPass();
    const bytes = Math.ceil(t.byteLength / 4) * 4;
    enc.clearBuffer(t.buffer, t.byteOffset, bytes);
  }

  copy(src: Tensor, dst: Tensor, elements = src.size, srcOffset = 0, dstOffset = 0): void {
    // WebGPU checks only the pooled buffer, which is rounded up to a size class: a copy past a
    // tensor's end would read or overwrite the slack (or a neighbour view) without an error.
    const inside = (offset: number, t: Tensor) => Number.isInteger(offset) && offset >= 0 && offset + elements <= t.size;
    if (!Number.isInteger(elements) || elements < 0 || !inside(srcOffset, src) || !inside(dstOffset, dst)) {
      throw new Error(`copy: ${elements} elements from '${src.label}' [${srcOffset}..) of ${src.size} to '${dst.label}' [${dstOffset}..) of ${dst.size} runs past a tensor's end`);
    }
    const enc = this.commandEncoder();
    this.endPass();
    enc.copyBufferToBuffer(src.buffer, src.byteOffset + srcOffset * 4, dst.buffer, dst.byteOffset + dstOffset * 4, elements * 4);
  }

  /** GPU -> CPU. Submits what is recorded, then maps a staging copy. */
  async read(t: Tensor): Promise<Float32Array> {
    return new Float32Array(await this.readBytes(t));
  }

  async readI32(t: Tensor): Promise<Int32Array> {
    return new Int32Array(await this.readBytes(t));
  }

  async readBytes(t: Tensor): Promise<ArrayBuffer> {
    const bytes = t.byteLength;
    const staging = this.device.createBuffer({ size: Math.max(4, bytes), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const enc = this.commandEncoder();
    this.endPass();
    enc.copyBufferToBuffer(t.buffer, t.byteOffset, staging, 0, bytes);
    this.submit();
    this.stats.readbacks++;
    await staging.mapAsync(GPUMapMode.READ);
    const out = staging.getMappedRange().slice(0);
    staging.unmap();
    staging.destroy();
    this.throwIfDeviceError();
    return out;
  }

  // ---- kernels ---------------------------------------------------------------

  /**
   * A compute pipeline for `entry` of `kernels/<file>.wgsl`, created once and
   * cached. `constants` set WGSL `override` declarations (tile sizes etc.).
   */
  kernel(file: string, entry = 'main', constants: Record<string, number> = {}): Kernel {
    const key = `${file}:${entry}:${JSON.stringify(constants)}`;
    let k = this.kernels.get(key);
    if (k) return k;
    const source = readKernelSource(file);
    const layout = parseWgslLayout(source, file);
    const module = this.device.createShaderModule({ code: source, label: file });
    const bindGroupLayout = this.device.createBindGroupLayout({
      label: file,
      entries: layout.bindings.map((b) => ({
        binding: b.binding,
        visibility: GPUShaderStage.COMPUTE,
        buffer: { type: b.access === 'uniform' ? 'uniform' : b.access === 'read' ? 'read-only-storage' : 'storage' },
      })),
    });
    const pipeline = this.device.createComputePipeline({
      label: key,
      layout: this.device.createPipelineLayout({ bindGroupLayouts: [bindGroupLayout] }),
      compute: { module, entryPoint: entry, constants },
    });
    k = { key, pipeline, bindGroupLayout, layout };
    this.kernels.set(key, k);
    return k;
  }

  /** Throws with the compiler's messages when a kernel file does not compile. */
  async checkKernel(file: string): Promise<void> {
    const module = this.device.createShaderModule({ code: readKernelSource(file), label: file });
    const info = await module.getCompilationInfo();
    const errors = info.messages.filter((m) => m.type === 'error');
    if (errors.length) throw new Error(`${file}:\n` + errors.map((m) => `  line ${m.lineNum}:${m.linePos} ${m.message}`).join('\n'));
  }

  /** Records one dispatch into the current step's command encoder. */
  dispatch(kernel: Kernel, bindings: BindingValues, params: ParamValues, groups: readonly [number, number?, number?]): void {
    const [gx, gy = 1, gz = 1] = groups;
    if (gx === 0 || gy === 0 || gz === 0) return;
    const max = this.gpu.maxWorkgroupsPerDim;
    if (gx > max || gy > max || gz > max) throw new Error(`${kernel.key}: grid [${gx},${gy},${gz}] exceeds ${max} workgroups per dimension`);
    if (this.arenaUsed === ARENA_SLOTS || this.profiler.full) this.submit();
    const entries: GPUBindGroupEntry[] = [];
    for (const b of kernel.layout.bindings) {
      if (b.access === 'uniform') {
        const offset = this.writeParams(kernel, params);
        entries.push({ binding: b.binding, resource: { buffer: this.arena, offset, size: kernel.layout.params.length * 4 || 4 } });
        continue;
      }
      const t = bindings[b.name];
      if (!t) throw new Error(`${kernel.key}: binding '${b.name}' missing (expects ${kernel.layout.bindings.filter((x) => x.access !== 'uniform').map((x) => x.name).join(', ')})`);
      if (t.disposed) throw new Error(`${kernel.key}: binding '${b.name}' (${t.label}) was disposed`);
      // f32 indices read as i32 (1.0 is 1065353216) would gather, append or embed nothing, silently.
      if (b.element !== 'u32' && t.dtype !== b.element) throw new Error(`${kernel.key}: binding '${b.name}' holds ${b.element}, got a ${t.dtype} tensor (${t.label})`);
      entries.push({ binding: b.binding, resource: { buffer: t.buffer, offset: t.byteOffset, size: Math.max(4, t.byteLength) } });
    }
    const bindGroup = this.device.createBindGroup({ layout: kernel.bindGroupLayout, entries });
    const pass = this.computePass(kernel.key);
    pass.setPipeline(kernel.pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(gx, gy, gz);
    this.stats.dispatches++;
    if (this.profiler.enabled) this.endPass();
  }

  /** Splits `n` workgroups into a 2D grid that respects the per-dimension limit. */
  grid(n: number): [number, number] {
    const max = this.gpu.maxWorkgroupsPerDim;
    if (n <= max) return [n, 1];
    const y = Math.ceil(n / max);
    return [Math.ceil(n / y), y];
  }

  private writeParams(kernel: Kernel, params: ParamValues): number {
    const offset = this.arenaUsed * this.slotBytes;
    this.arenaUsed++;
    const u32 = new Uint32Array(this.arenaMirror, offset, kernel.layout.params.length);
    const i32 = new Int32Array(this.arenaMirror, offset, kernel.layout.params.length);
    const f32 = new Float32Array(this.arenaMirror, offset, kernel.layout.params.length);
    kernel.layout.params.forEach((field, i) => {
      const v = params[field.name];
      if (v === undefined || Number.isNaN(v)) throw new Error(`${kernel.key}: parameter '${field.name}' missing`);
      if (field.type === 'f32') f32[i] = v;
      else if (field.type === 'i32') i32[i] = v;
      else {
        // 2^32 and above would wrap silently into a small index
        if (v < 0 || v > 0xffffffff || !Number.isInteger(v)) throw new Error(`${kernel.key}: parameter '${field.name}' = ${v} is not a u32`);
        u32[i] = v;
      }
    });
    return offset;
  }

  // ---- submission ------------------------------------------------------------

  private commandEncoder(): GPUCommandEncoder {
    if (!this.encoder) this.encoder = this.device.createCommandEncoder();
    return this.encoder;
  }

  private computePass(label: string): GPUComputePassEncoder {
    if (this.pass) return this.pass;
    const enc = this.commandEncoder();
    this.pass = enc.beginComputePass(this.profiler.enabled ? this.profiler.passDescriptor(label) : {});
    return this.pass;
  }

  private endPass(): void {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
  }

  /** Sends everything recorded so far to the GPU (no wait). */
  submit(): void {
    if (!this.encoder) return;
    this.endPass();
    if (this.arenaUsed > 0) this.device.queue.writeBuffer(this.arena, 0, this.arenaMirror, 0, this.arenaUsed * this.slotBytes);
    this.profiler.resolve(this.encoder);
    this.device.queue.submit([this.encoder.finish()]);
    this.stats.submits++;
    this.encoder = null;
    this.arenaUsed = 0;
  }

  /**
   * Frees the pool's unused buffers, after submitting the recorded work that may still read them
   * (work already submitted keeps its buffers until it completes). For a change of phase whose
   * tensors come in other sizes, e.g. GRPO's generation (KV cache) and update (activations): without
   * it each phase's freed buffers stay held and the two phases take memory at once.
   */
  trimPool(): void {
    this.submit();
    this.pool.trim();
  }

  /** Submits and waits until the GPU is idle. */
  async sync(): Promise<void> {
    this.submit();
    await this.device.queue.onSubmittedWorkDone();
    await this.profiler.collect();
    this.throwIfDeviceError();
  }
}
