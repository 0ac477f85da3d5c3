import { readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { describe, expect, it } from 'vitest';
import { getGpu } from '../src/gpu/device.js';
import { HOST_THREAD_NICE, shouldLowerHostPriority } from '../src/gpu/host-priority.js';

/** This process's threads and their nice values (field 19 of /proc/self/task/TID/stat). */
function threadNices(): Map<string, number> {
  return new Map(readdirSync('/proc/self/task').map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return [tid, Number(fields[16])];
  }));
}

describe('host thread priority', () => {
  it('is lowered for CPU adapters on Linux unless the environment says keep', () => {
    expect(shouldLowerHostPriority(true, 'linux', {})).toBe(true);
    expect(shouldLowerHostPriority(true, 'linux', { PATARM_HOST_PRIORITY: 'lower' })).toBe(true);
    expect(shouldLowerHostPriority(true, 'linux', { PATARM_HOST_PRIORITY: 'keep' })).toBe(false);
    expect(shouldLowerHostPriority(false, 'linux', {})).toBe(false);
    expect(shouldLowerHostPriority(true, 'darwin', {})).toBe(false);
    expect(() => shouldLowerHostPriority(true, 'linux', { PATARM_HOST_PRIORITY: 'low' })).toThrow(/PATARM_HOST_PRIORITY must be 'keep' or 'lower', got 'low'/);
  });

  it('lowers only the JS thread once the device exists, so the adapter keeps its workers', async () => {
    const before = getPriority(0);
    const threadsBefore = process.platform === 'linux' ? threadNices() : new Map<string, number>();
    const gpu = await getGpu();
    const lowered = shouldLowerHostPriority(gpu.isCpuAdapter, process.platform, process.env);
    expect(gpu.hostThreadNice).toBe(lowered ? HOST_THREAD_NICE : before);
    expect(getPriority(0)).toBe(gpu.hostThreadNice);
    if (lowered) {
      // The threads opening the device started (a CPU adapter's workers) keep the process's priority:
      // lowering theirs too would leave the spin and the work on equal terms again. (Threads started
      // later, e.g. Mesa's shader disk-cache writer, inherit the JS thread's.)
      const started = [...threadNices()].filter(([tid]) => !threadsBefore.has(tid));
      expect(started.filter(([, nice]) => nice === before).length).toBeGreaterThan(0);
    }
  });
});
