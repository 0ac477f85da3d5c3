// Adapter and device acquisition. The object returned by `create()` must stay
// alive for the whole process: if it is garbage-collected while a device is in
// use, Dawn segfaults or deadlocks (see docs: webgpu.md). It lives in a module
// variable for that reason.
//
// The native `webgpu` binding loads on the first adapter request, not when this module is
// imported: commands that need no GPU (scoring judgments made elsewhere, --help, --dry-run)
// import the GPU layer's types and constants and must work where the binding cannot load.
import { getPriority } from 'node:os';
import { lowerHostThreadPriority, shouldLowerHostPriority } from './host-priority.js';

const gpuRoots: GPU[] = []; // never released: see above

export class GpuUnavailableError extends Error {
  constructor(detail: string) {
    super(
      `No WebGPU adapter is available (${detail}).\n` +
        'On a GPU machine install the vendor Vulkan driver. On a CPU-only Debian bookworm machine,\n' +
        "install Mesa's lavapipe from bookworm-backports:\n" +
        '  apt-get install -y -t bookworm-backports mesa-vulkan-drivers libvulkan1\n' +
        '(`bash scripts/setup.sh` does this for you).',
    );
    this.name = 'GpuUnavailableError';
  }
}

export interface GpuInfo {
  adapter: GPUAdapter;
  device: GPUDevice;
  /** Human-readable adapter name (vendor / architecture / device / description). */
  name: string;
  features: ReadonlySet<string>;
  maxStorageBindingBytes: number;
  maxBufferBytes: number;
  storageOffsetAlign: number;
  uniformOffsetAlign: number;
  maxWorkgroupsPerDim: number;
  maxWorkgroupInvocations: number;
  /** The JS thread's nice value after opening the device (lowered on CPU adapters: host-priority.ts). */
  hostThreadNice: number;
  /** Smallest subgroup size the adapter reports, or 0 when unknown. */
  subgroupMinSize: number;
  /** Largest subgroup size the adapter reports, or 0 when unknown. */
  subgroupMaxSize: number;
  hasTimestamps: boolean;
  isCpuAdapter: boolean;
}

/**
 * Whether kernels that shuffle across whole subgroups (the 'cpu' matmul and attention families)
 * can run: they need the feature and the subgroup size, which they size their workgroups by.
 */
export function hasKnownSubgroups(gpu: GpuInfo): boolean {
  return gpu.features.has('subgroups') && gpu.subgroupMaxSize > 0;
}

let cached: Promise<GpuInfo> | null = null;

/** One device for the process; later calls return the same one. */
export function getGpu(): Promise<GpuInfo> {
  if (!cached) cached = openGpu();
  return cached;
}

function limitsOf(adapter: GPUAdapter): Record<string, number> {
  const out: Record<string, number> = {};
  // GPUSupportedLimits exposes its values as prototype getters, so a for-in walk is needed.
  for (const key in adapter.limits) {
    const value = (adapter.limits as unknown as Record<string, unknown>)[key];
    if (typeof value === 'number') out[key] = value;
  }
  return out;
}

/**
 * The adapter Dawn offers with the given flags (e.g. "backend=vulkan",
 * "adapter=NAME"; by default those of PATARM_DAWN_FLAGS, comma-separated),
 * or GpuUnavailableError saying how to install a driver.
 */
export async function requestAdapter(flags = dawnFlagsFromEnv()): Promise<GPUAdapter> {
  let binding: typeof import('webgpu');
  try {
    binding = await import('webgpu');
  } catch (err) {
    throw new GpuUnavailableError(`the native module of the npm package webgpu did not load: ${(err as Error).message}`);
  }
  const { create, globals } = binding;
  Object.assign(globalThis, globals);
  let adapter: GPUAdapter | null = null;
  try {
    const root = create(flags);
    gpuRoots.push(root);
    adapter = await root.requestAdapter({ powerPreference: 'high-performance' });
  } catch (err) {
    throw new GpuUnavailableError(`requestAdapter failed: ${(err as Error).message}`);
  }
  if (!adapter) throw new GpuUnavailableError(`requestAdapter returned null${flags.length ? ` with Dawn flags ${flags.join(',')}` : ''}`);
  return adapter;
}

function dawnFlagsFromEnv(): string[] {
  return (process.env.PATARM_DAWN_FLAGS ?? '').split(',').map((f) => f.trim()).filter(Boolean);
}

async function openGpu(): Promise<GpuInfo> {
  const adapter = await requestAdapter();

  const wanted: GPUFeatureName[] = ['timestamp-query', 'shader-f16', 'subgroups'];
  const features = wanted.filter((f) => adapter.features.has(f));
  const limits = limitsOf(adapter);
  // Ask for everything the adapter offers: WebGPU's defaults (128 MiB bindings,
  // 256 MiB buffers, 8 storage buffers per stage) are far below real hardware.
  const requiredLimits: Record<string, number> = {};
  for (const key of [
    'maxStorageBufferBindingSize',
    'maxBufferSize',
    'maxStorageBuffersPerShaderStage',
    'maxComputeWorkgroupStorageSize',
    'maxComputeInvocationsPerWorkgroup',
    'maxComputeWorkgroupSizeX',
    'maxComputeWorkgroupSizeY',
    'maxComputeWorkgroupSizeZ',
    'maxComputeWorkgroupsPerDimension',
    'maxBindingsPerBindGroup',
  ]) {
    if (key in limits) requiredLimits[key] = limits[key]!;
  }
  const device = await adapter.requestDevice({ requiredFeatures: features, requiredLimits });
  device.addEventListener('uncapturederror', (ev) => {
    const e = (ev as GPUUncapturedErrorEvent).error;
    process.stderr.write(`WebGPU error: ${e.message}\n`);
  });
  const info = adapter.info;
  const name = [info.vendor, info.architecture, info.device, info.description].filter((s) => s).join(' / ') || 'unknown adapter';
  const { subgroupMinSize = 0, subgroupMaxSize = 0 } = info as unknown as { subgroupMinSize?: number; subgroupMaxSize?: number };
  const isCpuAdapter = /llvmpipe|lavapipe|swiftshader/i.test(name);
  // After requestDevice, so the adapter's worker threads already exist and keep their priority.
  const hostThreadNice = shouldLowerHostPriority(isCpuAdapter, process.platform, process.env) ? lowerHostThreadPriority() : getPriority(0);
  return {
    adapter,
    device,
    name,
    features: new Set(features),
    maxStorageBindingBytes: device.limits.maxStorageBufferBindingSize,
    maxBufferBytes: device.limits.maxBufferSize,
    storageOffsetAlign: device.limits.minStorageBufferOffsetAlignment,
    uniformOffsetAlign: device.limits.minUniformBufferOffsetAlignment,
    maxWorkgroupsPerDim: device.limits.maxComputeWorkgroupsPerDimension,
    maxWorkgroupInvocations: device.limits.maxComputeInvocationsPerWorkgroup,
    subgroupMinSize,
    subgroupMaxSize,
    hasTimestamps: features.includes('timestamp-query'),
    isCpuAdapter,
    hostThreadNice,
  };
}
