// Shared helpers for kernel tests: a seeded generator, float64 reference
// utilities, error measures and central finite differences.
import { mulberry32 } from '../src/data/prng.js';
import { Runtime } from '../src/gpu/runtime.js';

let shared: Promise<Runtime> | null = null;
/** One runtime per test process (per test file: vitest forks one process each). */
export function runtime(): Promise<Runtime> {
  if (!shared) shared = Runtime.create();
  return shared;
}

/** Seeded test data: the library's mulberry32 (src/data/prng.ts). */
export const rng = mulberry32;

export function randn(n: number, seed: number, scale = 1): Float32Array {
  const u = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const r = Math.sqrt(-2 * Math.log(u() + 1e-12));
    out[i] = scale * r * Math.cos(2 * Math.PI * u());
  }
  return out;
}

export function toF64(a: ArrayLike<number>): Float64Array {
  return Float64Array.from(a as ArrayLike<number>);
}

/** ||a - b|| / ||b|| (relative L2 error); 0/0 counts as 0. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`relErr: lengths ${a.length} and ${b.length} differ`);
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    num += d * d;
    den += b[i]! * b[i]!;
  }
  if (den === 0) return Math.sqrt(num);
  return Math.sqrt(num / den);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/**
 * Central finite differences of a scalar float64 function at the given
 * coordinates of x (x is restored afterwards).
 */
export function finiteDiff(f: (x: Float64Array) => number, x: Float64Array, coords: number[], h = 1e-6): number[] {
  return coords.map((i) => {
    const orig = x[i]!;
    x[i] = orig + h;
    const fp = f(x);
    x[i] = orig - h;
    const fm = f(x);
    x[i] = orig;
    return (fp - fm) / (2 * h);
  });
}

/** A few coordinates spread over [0, n) for finite-difference spot checks. */
export function sampleCoords(n: number, count: number, seed: number): number[] {
  const u = rng(seed);
  const out = new Set<number>();
  while (out.size < Math.min(count, n)) out.add(Math.floor(u() * n));
  return [...out];
}

/** sum(w[i] * x[i]): a random linear functional turns a tensor output into a scalar loss. */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}
