// What the buffer pool allocates for a request: power-of-two classes up to 64 MiB, 16 MiB steps
// above, and near the adapter's maxBufferSize the request itself, never past that limit.
import { describe, expect, it } from 'vitest';
import { BufferPool, exactSize, pooledSize, sizeClass } from '../src/gpu/buffer-pool.js';
import { globals } from 'webgpu';
import { allocatedBytes } from '../src/train/memory-plan.js';

const MiB = 1 << 20;

describe('buffer pool sizes', () => {
  it('rounds to a power of two up to 64 MiB and to 16 MiB steps above', () => {
    expect(sizeClass(4)).toBe(256);
    expect(sizeClass(257)).toBe(512);
    expect(sizeClass(24 * MiB)).toBe(32 * MiB);
    expect(sizeClass(64 * MiB + 4)).toBe(80 * MiB);
  });

  it('falls back to the request rounded to 256 bytes, capped at a limit that is no multiple of 256', () => {
    const limit = 100 * MiB + 100; // a class of 112 MiB would not fit
    expect(pooledSize(90 * MiB, limit)).toBe(96 * MiB);
    expect(pooledSize(100 * MiB - 1000, limit)).toBe(100 * MiB - 768);
    expect(pooledSize(100 * MiB + 96, limit)).toBe(100 * MiB + 100); // 256-rounding would pass the limit
    expect(pooledSize(100 * MiB + 104, limit)).toBeNull();
    expect(allocatedBytes(100 * MiB + 96, limit)).toBe(100 * MiB + 100);
    expect(allocatedBytes(200 * MiB, limit)).toBe(200 * MiB); // refused by the pool, counted whole by the plan
  });
});

describe('buffers of their own size (acquireExact)', () => {
  Object.assign(globalThis, globals); // GPUBufferUsage
  const fakeDevice = () => {
    const made: { size: number; destroyed: boolean }[] = [];
    const device = { createBuffer: ({ size }: { size: number }) => { const b = { size, destroyed: false, destroy() { b.destroyed = true; } }; made.push(b); return b; } };
    return { device: device as unknown as GPUDevice, made };
  };

  it('takes the request rounded to 4 bytes, is never handed to another request, and is destroyed at trim', () => {
    const { device, made } = fakeDevice();
    const pool = new BufferPool(device, 2 ** 32);
    const w = pool.acquireExact(12 * MiB + 2, 'weight'); // a class would take 16 MiB
    expect(w.size).toBe(12 * MiB + 4);
    expect(pool.liveBytes).toBe(12 * MiB + 4);
    pool.release(w);
    expect([pool.liveBytes, pool.pooledBytes]).toEqual([0, 12 * MiB + 4]);
    expect(made[0]!.destroyed).toBe(false); // commands recorded before the release may still read it
    const t = pool.acquire(12 * MiB + 4, 'activation');
    expect(t).not.toBe(w);
    expect(t.size).toBe(16 * MiB);
    expect(pool.peakBytes).toBe(28 * MiB + 4);
    pool.trim();
    expect(made[0]!.destroyed).toBe(true);
    expect(pool.pooledBytes).toBe(0);
    expect(exactSize(1, 100)).toBe(4);
    expect(exactSize(101, 100)).toBeNull();
    expect(() => pool.acquireExact(2 ** 32 + 4, 'huge')).toThrow(/more than the adapter's maxBufferSize/);
  });
});
