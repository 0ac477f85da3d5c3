import { describe, expect, it } from 'vitest';
import { gatherRows } from '../src/ops/gather.js';
import { randn, runtime } from './util.js';

/** Reference: dst[i, :] = src[idx[i], :], zeros for an index outside src. */
function refGather(src: Float32Array, idx: Int32Array, cols: number): Float32Array {
  const rows = src.length / cols;
  const out = new Float32Array(idx.length * cols);
  idx.forEach((r, i) => { if (r >= 0 && r < rows) out.set(src.subarray(r * cols, (r + 1) * cols), i * cols); });
  return out;
}

function firstMismatch(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

describe('gatherRows', () => {
  it('gathers repeated, unordered rows; out-of-range indices give zero rows', async () => {
    const rt = await runtime();
    const rows = 50, cols = 33;
    const src = randn(rows * cols, 1);
    const idx = Int32Array.from([49, 0, 7, 7, -1, 50, 3, 12, 49, 25, 1000, 2]);
    const M = idx.length;
    const dst = rt.empty([M, cols]);
    rt.write(dst, new Float32Array(M * cols).fill(5));
    gatherRows(rt, rt.upload(src, [rows, cols]), rt.upload(idx, [M]), dst, M, cols);
    expect(firstMismatch(await rt.read(dst), refGather(src, idx, cols))).toBe(-1);
  });

  it('uses a 2-D grid when the elements need more than 65535 workgroups', async () => {
    const rt = await runtime();
    const rows = 40, cols = 1024, M = 16500; // 16.9M elements = 66000 workgroups of 256
    expect(Math.ceil((M * cols) / 256)).toBeGreaterThan(rt.gpu.maxWorkgroupsPerDim);
    const src = randn(rows * cols, 2);
    const idx = Int32Array.from({ length: M }, (_, i) => (i * 7919) % rows);
    const dst = rt.zeros([M, cols]);
    gatherRows(rt, rt.upload(src, [rows, cols]), rt.upload(idx, [M]), dst, M, cols);
    expect(firstMismatch(await rt.read(dst), refGather(src, idx, cols))).toBe(-1);
    dst.dispose();
  });
});
