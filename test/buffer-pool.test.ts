// What the buffer pool allocates for a request: power-of-two classes up to 64 MiB, 16 MiB steps
// above, and near the adapter's maxBufferSize the request itself, never past that limit.
import { describe, expect, it } from 'vitest';
import { pooledSize, sizeClass } from '../src/gpu/buffer-pool.js';
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
