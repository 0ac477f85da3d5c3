// Lowers the JavaScript thread's CPU priority when the WebGPU adapter runs on the CPU.
//
// Dawn's Node bindings wait for GPU work (mapAsync, onSubmittedWorkDone) by re-arming setImmediate
// until the work is done, so the JS thread spins for as long as the GPU computes. On a CPU adapter
// (Mesa's lavapipe) the "GPU" is a pool of worker threads on the same cores, and the spinning thread
// takes a core from them: on 2 cores a default-job SFT step took 0.33 s, against 0.20 s with the JS
// thread at nice 19. On Linux nice is a per-thread attribute and new threads inherit their creator's,
// so this runs after the device (and lavapipe's worker pool) exists: the workers keep their priority,
// the JS thread still runs whenever they are idle, and it only yields while they compute.
import { getPriority, setPriority } from 'node:os';

/** The nice value given to the JS thread (the lowest priority). */
export const HOST_THREAD_NICE = 19;

/** Set PATARM_HOST_PRIORITY=keep to leave the JS thread's priority alone (e.g. to measure the spin). */
export const HOST_PRIORITY_ENV = 'PATARM_HOST_PRIORITY';

/** Whether to lower the JS thread's priority: CPU adapters on Linux, unless the environment says keep. */
export function shouldLowerHostPriority(isCpuAdapter: boolean, platform: string, env: Readonly<Record<string, string | undefined>>): boolean {
  const setting = env[HOST_PRIORITY_ENV];
  if (setting !== undefined && setting !== '' && setting !== 'keep' && setting !== 'lower') {
    throw new Error(`${HOST_PRIORITY_ENV} must be 'keep' or 'lower', got '${setting}'`);
  }
  // Elsewhere the nice value is the whole process's, adapter workers included: lowering it gains nothing.
  return isCpuAdapter && platform === 'linux' && setting !== 'keep';
}

/** Lowers the calling thread's priority (Linux: only this thread); returns the nice value it now has. */
export function lowerHostThreadPriority(): number {
  try {
    if (getPriority(0) < HOST_THREAD_NICE) setPriority(0, HOST_THREAD_NICE);
  } catch {
    // A sandbox may forbid it; the engine is only slower then, not wrong.
  }
  return getPriority(0);
}
