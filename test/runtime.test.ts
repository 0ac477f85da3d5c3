import { describe, expect, it } from 'vitest';
import { Runtime } from '../src/gpu/runtime.js';
import { add, axpy } from '../src/ops/elementwise.js';
import { parseWgslLayout } from '../src/gpu/wgsl-layout.js';
import { RowSplitTensor } from '../src/gpu/row-split.js';

describe('gpu runtime', () => {
  it('parses bindings and the uniform struct of a kernel', () => {
    const l = parseWgslLayout(
      `struct Params { n: u32, // count, with a comma
        alpha: f32 }
       @group(0) @binding(0) var<uniform> p: Params;
       @group(0) @binding(2) var<storage, read_write> y: array<f32>;
       @group(0) @binding(1) var<storage, read> x: array<f32>;`,
      't.wgsl',
    );
    expect(l.bindings.map((b) => `${b.binding}:${b.name}:${b.access}`)).toEqual(['0:p:uniform', '1:x:read', '2:y:read_write']);
    expect(l.params).toEqual([{ name: 'n', type: 'u32' }, { name: 'alpha', type: 'f32' }]);
  });

  it('runs kernels in one submit and reads results back', async () => {
    const rt = await Runtime.create();
    const n = 1000;
    const a = Float32Array.from({ length: n }, (_, i) => i * 0.5);
    const b = Float32Array.from({ length: n }, (_, i) => 3 - i);
    const ta = rt.upload(a, [n]);
    const tb = rt.upload(b, [n]);
    const out = rt.empty([n]);
    const before = rt.stats.submits;
    add(rt, ta, tb, out);
    axpy(rt, -2, ta, out); // out = a + b - 2a = b - a
    const got = await rt.read(out);
    expect(rt.stats.submits - before).toBe(1); // the work and the readback copy share one submit
    for (let i = 0; i < n; i++) expect(got[i]).toBeCloseTo(b[i]! - a[i]!, 5);
  });

  it('stores a tensor larger than a part limit as row blocks', async () => {
    const rt = await Runtime.create();
    const rows = 37, cols = 11;
    const w = RowSplitTensor.zeros(rt, rows, cols, 'w', 10 * cols * 4);
    expect(w.parts.map((p) => p.rows)).toEqual([10, 10, 10, 7]);
    const data = Float32Array.from({ length: rows * cols }, (_, i) => Math.sin(i));
    w.write(rt, data);
    expect(Array.from(await w.read(rt))).toEqual(Array.from(data));
  });

  it('refuses missing parameters and bindings by name', async () => {
    const rt = await Runtime.create();
    const x = rt.zeros([4]);
    expect(() => rt.dispatch(rt.kernel('axpy'), { x }, { n: 4, rowStride: 256, alpha: 1 }, [1])).toThrow(/binding 'y' missing/);
    expect(() => rt.dispatch(rt.kernel('axpy'), { x, y: rt.zeros([4]) }, { n: 4, alpha: 1 }, [1])).toThrow(/parameter 'rowStride' missing/);
    // a u32 parameter of 2^32 would wrap to 0 in the uniform buffer: refused, as negatives and fractions are
    for (const n of [2 ** 32, -1, 1.5]) {
      expect(() => rt.dispatch(rt.kernel('axpy'), { x, y: rt.zeros([4]) }, { n, rowStride: 256, alpha: 1 }, [1])).toThrow(new RegExp(`parameter 'n' = ${n} is not a u32`));
    }
  });
});
