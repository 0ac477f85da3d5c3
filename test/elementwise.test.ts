// The small elementwise kernels against float64: absDiff (the sampler/trainer log-prob gap) and
// maskedSumInto (GRPO's entropy and gap sums, kept on the GPU), on sizes that are no multiple of
// the 256-wide workgroup.
import { describe, expect, it } from 'vitest';
import { absDiff, maskedSumInto } from '../src/ops/elementwise.js';
import { randn, relErr, rng, runtime } from './util.js';

describe('elementwise kernels', () => {
  it('absDiff writes |a - b| for every element and nothing past n', async () => {
    const rt = await runtime();
    for (const n of [1, 257, 70001]) {
      const a = randn(n, 1), b = randn(n, 2);
      const out = rt.upload(new Float32Array(n).fill(-7), [n]); // garbage the kernel must overwrite
      absDiff(rt, rt.upload(a, [n]), rt.upload(b, [n]), out);
      const ref = Array.from(a, (x, i) => Math.abs(x - b[i]!));
      const got = await rt.read(out);
      expect(relErr(got, ref), `n=${n}`).toBeLessThan(1e-7);
      expect(Math.min(...got)).toBeGreaterThanOrEqual(0); // a - b would be negative for about half
    }
  });

  it('maskedSumInto adds sum(x * mask) to its slot only, skipping masked-out NaN', async () => {
    const rt = await runtime();
    for (const n of [3, 300, 4099]) {
      const x = randn(n, 3), random = rng(4);
      const mask = Float32Array.from({ length: n }, () => (random() < 0.6 ? 1 : 0));
      mask[0] = 0;
      x[0] = NaN; // a masked-out position's value (padding) must not reach the sum
      const slots = rt.upload(Float32Array.from([10, 20, 30]), [3]);
      maskedSumInto(rt, rt.upload(x, [n]), rt.upload(mask, [n]), slots, 1, n);
      let ref = 20;
      for (let i = 1; i < n; i++) ref += x[i]! * mask[i]!;
      const got = await rt.read(slots);
      expect(got[0]).toBe(10);
      expect(got[2]).toBe(30);
      expect(Math.abs(got[1]! - ref), `n=${n}`).toBeLessThan(1e-5 * Math.max(1, Math.abs(ref)));
    }
  });

  it('maskedSumInto sums only the first n elements of longer tensors', async () => {
    const rt = await runtime();
    const x = Float32Array.from({ length: 600 }, (_, i) => i + 1), mask = new Float32Array(600).fill(1);
    const out = rt.zeros([1]);
    maskedSumInto(rt, rt.upload(x, [600]), rt.upload(mask, [600]), out, 0, 513);
    expect((await rt.read(out))[0]).toBe((513 * 514) / 2);
  });
});
