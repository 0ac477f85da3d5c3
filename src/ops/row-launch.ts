// The launch check shared by the kernels that reduce rows (or partial sums) over a fixed tree
// with a layout chosen per adapter: lanes per row (a power of two) x rows per workgroup.
import type { Runtime } from '../gpu/runtime.js';

/** 256: WebGPU's guaranteed minimum for invocations per workgroup and for workgroup size y. */
const PORTABLE_MAX_THREADS = 256;

export function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && (n & (n - 1)) === 0;
}

/** Throws, naming `launch`, unless `lanes` is a power of two <= maxLanes and lanes x rows fits a workgroup. */
export function checkRowLaunch(rt: Runtime, op: string, launch: object, lanes: number, maxLanes: number, rows: number): void {
  const maxThreads = Math.min(PORTABLE_MAX_THREADS, rt.gpu.maxWorkgroupInvocations);
  if (!isPowerOfTwo(lanes) || lanes > maxLanes || !Number.isInteger(rows) || rows < 1 || lanes * rows > maxThreads) {
    throw new Error(`${op}: launch ${JSON.stringify(launch)} needs a power-of-two lane count <= ${maxLanes} and at most ${maxThreads} threads`);
  }
}
