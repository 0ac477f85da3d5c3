import { describe, expect, it } from 'vitest';
import { GpuUnavailableError, requestAdapter } from '../src/gpu/device.js';

describe('device', () => {
  it('finds an adapter with the default flags', async () => {
    expect(await requestAdapter()).toBeTruthy();
  });

  it('explains how to install a driver when there is no adapter', async () => {
    // A backend this platform does not have leaves Dawn with no adapter.
    const flags = [process.platform === 'win32' ? 'backend=metal' : 'backend=d3d12'];
    const err = await requestAdapter(flags).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GpuUnavailableError);
    expect((err as Error).message).toContain('No WebGPU adapter is available');
    expect((err as Error).message).toContain('mesa-vulkan-drivers');
  });
});
