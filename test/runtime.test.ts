import { describe, expect, it } from 'vitest';
import { Runtime } from '../src/gpu/runtime.js';
import { add, axpy } from '../src/ops/elementwise.js';
import { parseWgslLayout } from '../src/gpu/wgsl-layout.js';
import { RowSplitTensor } from '../src/gpu/row-split.js';
import { GpuOutOfMemoryError, runtimeErrorOf } from '../src/gpu/errors.js';
import { validatingRuntime } from './validating-device.js';

describe('gpu runtime', () => {
  it('parses bindings and the uniform struct of a kernel', () => {
    const l = parseWgslLayout(
      `struct Params { n: u32, // count, with a comma
        alpha: f32 }
       @group(0) @binding(0) var<uniform> p: Params;
       @group(0) @binding(2) var<storage, read_write> y: array<f32>;
       @group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
       @group(0) @binding(3) var<storage, read> ids: array<i32>;
       @group(0) @binding(4) var<storage, read_write> bits: array<u32>;`,
      't.wgsl',
    );
    expect(l.bindings.map((b) => `${b.binding}:${b.name}:${b.access}:${b.element}`)).toEqual(['0:p:uniform:null', '1:x:read:f32', '2:y:read_write:f32', '3:ids:read:i32', '4:bits:read_write:u32']);
    expect(() => parseWgslLayout('@group(0) @binding(0) var<storage, read> m: array<mat4x4<f32>>;', 'm.wgsl')).toThrow(/m.wgsl: storage binding 'm' must be an array of f32, i32 or u32/);
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
    // a tensor of another dtype than the array it is bound to (f32 indices would read as huge i32s)
    expect(() => rt.dispatch(rt.kernel('axpy'), { x: rt.upload(Int32Array.from([1, 2, 3, 4]), [4], 'ids'), y: rt.zeros([4]) }, { n: 4, rowStride: 256, alpha: 1 }, [1]))
      .toThrow(/axpy\S*: binding 'x' holds f32, got a i32 tensor \(ids\)/);
  });

  it('refuses a copy that runs past either tensor\'s end (the pooled buffer behind it is larger)', async () => {
    const rt = await Runtime.create();
    const a = rt.zeros([257], 'f32', 'a'), b = rt.zeros([300], 'f32', 'b');
    expect(() => rt.copy(b, a)).toThrow("copy: 300 elements from 'b' [0..) of 300 to 'a' [0..) of 257 runs past a tensor's end");
    expect(() => rt.copy(a, b, 10, 250)).toThrow(/runs past a tensor's end/);
    expect(() => rt.copy(a, b, 10, 0, -1)).toThrow(/runs past a tensor's end/);
    const ramp = rt.upload(Float32Array.from({ length: 257 }, (_, i) => i + 1), [257]);
    rt.copy(ramp, b, 257, 0, 43); // exactly to b's end
    const got = await rt.read(b);
    expect(Array.from(got.subarray(40, 45))).toEqual([0, 0, 0, 1, 2]);
    expect(got[299]).toBe(257);
    a.dispose(); b.dispose(); ramp.dispose();
  });
});

describe('asynchronous device errors', () => {
  // Stand-ins named as Dawn names its error classes (the bindings need not put them on globalThis).
  class GPUOutOfMemoryError { constructor(readonly message: string) {} }
  class GPUValidationError { constructor(readonly message: string) {} }

  it('an out-of-memory error stops the run as GpuOutOfMemoryError, which the command lines add their advice to; others as WebGPU errors', async () => {
    const { rt, fireDeviceError } = validatingRuntime({ bindingBytes: 1 << 20 });
    fireDeviceError(new GPUOutOfMemoryError('Allocation failed') as unknown as GPUError);
    fireDeviceError(new GPUValidationError('second one, kept for later') as unknown as GPUError);
    let caught: unknown;
    try {
      rt.throwIfDeviceError();
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(GpuOutOfMemoryError);
    expect((caught as Error).message).toBe('WebGPU: the GPU is out of memory (Allocation failed)');
    expect(() => rt.throwIfDeviceError()).not.toThrow(); // the first error is raised once; later ones until then are dropped
    const validation = runtimeErrorOf(new GPUValidationError('bad binding') as unknown as GPUError);
    expect(validation).not.toBeInstanceOf(GpuOutOfMemoryError);
    expect(validation.message).toBe('WebGPU error: bad binding');
  });
});
