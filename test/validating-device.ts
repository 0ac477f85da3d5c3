// A stand-in WebGPU device that checks what Dawn checks on the host (buffer and binding sizes,
// 256-byte binding offsets, ranges inside their buffers, grids within the per-dimension limit, a
// buffer bound both read-only and writable in one dispatch) and computes nothing. With it the
// engine's real launch and allocation code runs at Qwen3-8B/14B shapes in seconds on any machine;
// the buffer pool's peak then says what the device would have to hold.
import { globals } from 'webgpu';
import type { GpuInfo } from '../src/gpu/device.js';
import { Runtime } from '../src/gpu/runtime.js';

Object.assign(globalThis, globals); // GPUBufferUsage, GPUMapMode, ...

export interface DeviceLog {
  errors: string[];
  dispatches: number;
  maxGrid: [number, number, number];
  /** Dispatches per pipeline label (kernel file and entry point). */
  kernels: Map<string, number>;
}

export function validatingRuntime(o: { bindingBytes: number; cpuAdapter?: boolean; subgroupMaxSize?: number }): { rt: Runtime; log: DeviceLog; fireDeviceError: (error: GPUError) => void } {
  const listeners: { type: string; listener: (ev: unknown) => void }[] = [];
  /** Reports `error` as a device's uncapturederror event does (asynchronously, in WebGPU). */
  const fireDeviceError = (error: GPUError) => { for (const l of listeners) if (l.type === 'uncapturederror') l.listener({ error }); };
  const limits = {
    maxStorageBufferBindingSize: o.bindingBytes, maxBufferSize: 2 ** 32, maxComputeWorkgroupsPerDimension: 65535,
    maxUniformBufferBindingSize: 65536, minStorageBufferOffsetAlignment: 256, minUniformBufferOffsetAlignment: 256,
  };
  const log: DeviceLog = { errors: [], dispatches: 0, maxGrid: [0, 0, 0], kernels: new Map() };
  const err = (m: string) => { if (log.errors.length < 20) log.errors.push(m); };
  type FakeBuffer = { size: number; label: string; destroyed: boolean };
  const checkRange = (what: string, b: FakeBuffer, offset: number, size: number) => {
    if (b.destroyed) err(`${what}: buffer '${b.label}' used after destroy`);
    if (offset % 4 || size % 4) err(`${what}: offset ${offset} or size ${size} not a multiple of 4`);
    if (offset + size > b.size) err(`${what}: bytes ${offset}..${offset + size} past the end of '${b.label}' (${b.size})`);
  };
  type Entry = { binding: number; resource: { buffer: FakeBuffer; offset?: number; size: number } };
  type Layout = { label?: string; entries: { binding: number; buffer: { type: string } }[] };
  const device = {
    limits,
    createBuffer: (d: { size: number; label?: string }) => {
      if (d.size > limits.maxBufferSize) err(`buffer '${d.label}' of ${d.size} bytes is past maxBufferSize`);
      return {
        size: d.size, label: d.label ?? '', destroyed: false,
        destroy() { this.destroyed = true; }, mapAsync: async () => {}, getMappedRange() { return new ArrayBuffer(this.size); }, unmap() {},
      };
    },
    createShaderModule: () => ({ getCompilationInfo: async () => ({ messages: [] }) }),
    createBindGroupLayout: (d: Layout) => d,
    createPipelineLayout: (d: unknown) => d,
    createComputePipeline: (d: { label?: string }) => ({ label: d.label }),
    createQuerySet: () => ({}),
    createBindGroup: ({ layout, entries }: { layout: Layout; entries: Entry[] }) => {
      const uses = new Map<FakeBuffer, Set<string>>();
      for (const e of entries) {
        const type = layout.entries.find((x) => x.binding === e.binding)!.buffer.type;
        const { buffer, offset = 0, size } = e.resource;
        const what = `${layout.label ?? 'kernel'} binding ${e.binding}`;
        checkRange(what, buffer, offset, size);
        if (offset % 256) err(`${what}: offset ${offset} is not 256-aligned`);
        const limit = type === 'uniform' ? limits.maxUniformBufferBindingSize : limits.maxStorageBufferBindingSize;
        if (size > limit) err(`${what}: ${size} bytes of '${buffer.label}' bound, past the ${type} binding limit ${limit}`);
        if (type !== 'uniform') uses.set(buffer, (uses.get(buffer) ?? new Set()).add(type));
      }
      for (const [b, types] of uses) if (types.size > 1) err(`${layout.label}: '${b.label}' bound read-only and writable`);
      return { label: layout.label };
    },
    createCommandEncoder: () => ({
      beginComputePass: () => ({
        pipeline: '',
        setPipeline(p: { label?: string }) { this.pipeline = p.label ?? ''; }, setBindGroup() {}, end() {},
        dispatchWorkgroups(x: number, y = 1, z = 1) {
          log.dispatches++;
          log.kernels.set(this.pipeline, (log.kernels.get(this.pipeline) ?? 0) + 1);
          [x, y, z].forEach((v, i) => {
            log.maxGrid[i] = Math.max(log.maxGrid[i]!, v);
            if (v > limits.maxComputeWorkgroupsPerDimension) err(`grid [${x}, ${y}, ${z}] past the per-dimension limit`);
          });
        },
      }),
      clearBuffer: (b: FakeBuffer, offset = 0, size = b.size - offset) => checkRange('clearBuffer', b, offset, size),
      copyBufferToBuffer: (s: FakeBuffer, so: number, d: FakeBuffer, doff: number, size: number) => { checkRange('copy source', s, so, size); checkRange('copy target', d, doff, size); },
      resolveQuerySet() {},
      finish: () => ({}),
    }),
    queue: {
      writeBuffer: (b: FakeBuffer, offset: number, data: ArrayBufferView, _dataOffset = 0, size?: number) => checkRange('writeBuffer', b, offset, size ?? data.byteLength),
      submit() {},
      onSubmittedWorkDone: async () => {},
    },
    addEventListener(type: string, listener: (ev: unknown) => void) {
      listeners.push({ type, listener });
    },
  };
  const gpu: GpuInfo = {
    adapter: null as unknown as GPUAdapter, device: device as unknown as GPUDevice, name: 'validating stand-in',
    features: new Set(['subgroups']), maxStorageBindingBytes: limits.maxStorageBufferBindingSize, maxBufferBytes: limits.maxBufferSize,
    storageOffsetAlign: 256, uniformOffsetAlign: 256, maxWorkgroupsPerDim: 65535, maxWorkgroupInvocations: 256,
    hostThreadNice: 0, subgroupMinSize: o.subgroupMaxSize ?? 8, subgroupMaxSize: o.subgroupMaxSize ?? 8, hasTimestamps: false, isCpuAdapter: o.cpuAdapter ?? false,
  };
  return { rt: Runtime.onDevice(gpu), log, fireDeviceError };
}
