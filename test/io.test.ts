import { copyFile, mkdir, mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../src/data/prng.js';
import {
  bf16ToF32,
  bytesPerElement,
  decodeToF32,
  DTypeRangeError,
  encodeF32,
  encodeF32InViews,
  encodeI32,
  encodeI32InViews,
  f16ToF32,
  f32ToBf16,
  f32ToF16,
  f64ToF32,
  i64ToI32,
  MAX_ENCODED_VIEW_BYTES,
  rawBytesInViews,
  type DType,
  type EncodedBytes,
} from '../src/io/dtype.js';
import {
  openSafetensors,
  readSafetensorsHeader,
  SafetensorsError,
  writeSafetensors,
  type TensorToWrite,
} from '../src/io/safetensors.js';
import {
  DEFAULT_MAX_SHARD_BYTES,
  HfModelError,
  openHfModelFolder,
  parseQwen3Config,
  planShards,
  qwen3ConfigToHfJson,
  qwen3WeightShapes,
  writeHfModelFiles,
  writeHfModelFolder,
  type Qwen3Config,
} from '../src/io/hf-model.js';
import { writeFolderAtomically } from '../src/io/atomic.js';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'qwen3-tiny');
const MODEL_DIR = join(FIXTURE, 'model');
const MODEL_FILE = join(MODEL_DIR, 'model.safetensors');
const CASE_FILE = join(FIXTURE, 'case.safetensors');

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'io-test-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

let counter = 0;
const tmpPath = (name: string): string => join(tmp, `${counter++}-${name}`);

const f32FromBits = (bits: number): number => new Float32Array(new Uint32Array([bits]).buffer)[0]!;
const bitsOfF32 = (x: number): number => new Uint32Array(new Float32Array([x]).buffer)[0]!;
const toBf16 = (x: number): number => f32ToBf16(new Float32Array([x]))[0]!;
const toF16 = (x: number): number => f32ToF16(new Float32Array([x]))[0]!;
const fromF16 = (h: number): number => f16ToF32(new Uint16Array([h]))[0]!;
const fromBf16 = (h: number): number => bf16ToF32(new Uint16Array([h]))[0]!;

/** Asserts that `promise` rejects with `ErrorClass` whose message contains every fragment. */
async function expectError(promise: Promise<unknown>, ErrorClass: new (...args: never[]) => Error, ...fragments: string[]): Promise<Error> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected a rejection').toBeInstanceOf(ErrorClass);
  const message = (caught as Error).message;
  for (const fragment of fragments) expect(message).toContain(fragment);
  return caught as Error;
}

// ---------------------------------------------------------------------------

describe('dtype conversions', () => {
  it('bytes per element', () => {
    const expected: Record<DType, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };
    for (const [dtype, size] of Object.entries(expected)) expect(bytesPerElement(dtype as DType)).toBe(size);
  });

  it('bf16 -> f32 is a 16-bit shift', () => {
    expect(fromBf16(0x3f80)).toBe(1);
    expect(fromBf16(0xc040)).toBe(-3);
    expect(Object.is(fromBf16(0x8000), -0)).toBe(true);
    expect(fromBf16(0x7f80)).toBe(Infinity);
    expect(fromBf16(0xff80)).toBe(-Infinity);
    expect(fromBf16(0x7fc0)).toBeNaN();
    expect(fromBf16(0x0001)).toBe(2 ** -133);
    expect(fromBf16(0x7f7f)).toBe(f32FromBits(0x7f7f0000));
  });

  it('f32 -> bf16 rounds to nearest, ties to even, on hand-picked bit patterns', () => {
    const cases: [number, number][] = [
      [0x3f800000, 0x3f80], // exact
      [0x3f807fff, 0x3f80], // just below half: down
      [0x3f808000, 0x3f80], // tie, 0x3f80 is even: down
      [0x3f808001, 0x3f81], // just above half: up
      [0x3f818000, 0x3f82], // tie, 0x3f81 is odd: up to even
      [0xbf818000, 0xbf82], // same for negatives
      [0x3f7fffff, 0x3f80], // rounding carries into the exponent
      [0x7f7fffff, 0x7f80], // max f32 rounds up to inf
      [0x7f7f7fff, 0x7f7f], // large value stays finite
      [0x80000000, 0x8000], // -0
      [0x00000001, 0x0000], // tiny subnormal rounds to zero
      [0x7f800000, 0x7f80], // inf
    ];
    for (const [input, want] of cases) {
      expect(toBf16(f32FromBits(input)).toString(16), `input 0x${input.toString(16)}`).toBe(want.toString(16));
    }
    // A NaN whose payload lives only in the low 16 bits must not turn into inf.
    const nan = toBf16(f32FromBits(0x7f800001));
    expect(fromBf16(nan)).toBeNaN();
  });

  it('f32 -> bf16 picks the nearer neighbour for random values', () => {
    const rand = mulberry32(1);
    for (let i = 0; i < 20000; i++) {
      const x = f32FromBits(Math.floor(rand() * 0x7f000000) | (rand() < 0.5 ? 0x80000000 : 0));
      const got = fromBf16(toBf16(x));
      const down = f32FromBits(bitsOfF32(x) & 0xffff0000);
      const up = f32FromBits(((bitsOfF32(x) & 0xffff0000) + 0x10000) >>> 0);
      expect(Math.abs(got - x)).toBeLessThanOrEqual(Math.min(Math.abs(down - x), Math.abs(up - x)));
    }
  });

  it('f16 -> f32 handles normals, subnormals, zeros, inf and nan', () => {
    expect(fromF16(0x3c00)).toBe(1);
    expect(fromF16(0xc000)).toBe(-2);
    expect(fromF16(0x3555)).toBe(0.333251953125);
    expect(fromF16(0x7bff)).toBe(65504);
    expect(fromF16(0x0400)).toBe(2 ** -14);
    expect(fromF16(0x0001)).toBe(2 ** -24);
    expect(fromF16(0x03ff)).toBe(1023 * 2 ** -24);
    expect(fromF16(0x8001)).toBe(-(2 ** -24));
    expect(Object.is(fromF16(0x8000), -0)).toBe(true);
    expect(Object.is(fromF16(0x0000), 0)).toBe(true);
    expect(fromF16(0x7c00)).toBe(Infinity);
    expect(fromF16(0xfc00)).toBe(-Infinity);
    expect(fromF16(0x7e00)).toBeNaN();
    expect(fromF16(0x7c01)).toBeNaN();
  });

  it('every f16 bit pattern survives f16 -> f32 -> f16', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const back = f32ToF16(f16ToF32(all));
    for (let h = 0; h < 65536; h++) {
      const isNaN = (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
      if (isNaN) expect(fromF16(back[h]!)).toBeNaN();
      else if (back[h] !== h) expect.fail(`0x${h.toString(16)} came back as 0x${back[h]!.toString(16)}`);
    }
  });

  it('f32 -> f16 rounds to nearest even, overflows to inf, underflows through subnormals', () => {
    const cases: [number, number][] = [
      [1, 0x3c00],
      [1 + 2 ** -11, 0x3c00], // tie, even mantissa: down
      [1 + 3 * 2 ** -11, 0x3c02], // tie, odd mantissa: up
      [65504, 0x7bff],
      [65519, 0x7bff], // below the tie with 65536
      [65520, 0x7c00], // tie rounds to even, which is inf
      [1e6, 0x7c00],
      [-1e6, 0xfc00],
      [2 ** -24, 0x0001],
      [2 ** -25, 0x0000], // tie between 0 and the smallest subnormal: even is 0
      [2 ** -25 * 1.5, 0x0001],
      [3 * 2 ** -25, 0x0002], // tie between subnormals 1 and 2
      [2 ** -14 - 2 ** -25, 0x0400], // tie between largest subnormal and smallest normal
      [1e-8, 0x0000],
      [-0, 0x8000],
      [-(2 ** -24), 0x8001],
    ];
    for (const [input, want] of cases) {
      expect(toF16(input).toString(16), `input ${input}`).toBe(want.toString(16));
    }
    expect(fromF16(toF16(NaN))).toBeNaN();
  });

  it('f32 -> f16 picks the nearest f16 for random values in range', () => {
    const rand = mulberry32(2);
    for (let i = 0; i < 20000; i++) {
      const x = Math.fround((rand() - 0.5) * 2 ** Math.floor(rand() * 40 - 26));
      const h = toF16(x);
      const got = fromF16(h);
      const magnitude = h & 0x7fff;
      const neighbours = [magnitude - 1, magnitude + 1].filter((m) => m >= 0 && m < 0x7c00).map((m) => fromF16(m | (h & 0x8000)));
      for (const n of neighbours) expect(Math.abs(got - x)).toBeLessThanOrEqual(Math.abs(n - x));
    }
  });

  it('f64 -> f32 rounds like Math.fround', () => {
    const values = new Float64Array([0.1, -1 / 3, 1e300, -1e-300, 123456789.123]);
    const out = f64ToF32(values);
    expect(Array.from(out)).toEqual(Array.from(values, (v) => Math.fround(v)));
    expect(out[2]).toBe(Infinity);
  });

  it('I64 -> I32 keeps in-range values and rejects others', () => {
    const ok = new BigInt64Array([0n, -1n, 2147483647n, -2147483648n, 42n]);
    expect(Array.from(i64ToI32(ok))).toEqual([0, -1, 2147483647, -2147483648, 42]);
    for (const bad of [2147483648n, -2147483649n, 1n << 40n, -(1n << 62n)]) {
      expect(() => i64ToI32(new BigInt64Array([1n, bad]))).toThrow(DTypeRangeError);
    }
  });

  it('decodeToF32 accepts unaligned byte views', () => {
    const backing = new Uint8Array(9);
    backing.set(new Uint8Array(new Float32Array([1.5, -2]).buffer), 1);
    expect(Array.from(decodeToF32(backing.subarray(1), 'F32'))).toEqual([1.5, -2]);
  });

  it('encodes a tensor in views no longer than asked, the same bytes as one view (past 4 GiB one Uint8Array is too long for V8)', () => {
    // The writer draws views of MAX_ENCODED_VIEW_BYTES; the splitting is checked here at a few bytes.
    const bytesOf = (v: ArrayBufferView) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    const drawn = (encoded: EncodedBytes, max: number): { views: number; bytes: Buffer } => {
      const views = [...encoded.views()];
      for (const view of views) expect(view.byteLength).toBeLessThanOrEqual(max);
      const bytes = Buffer.concat(views);
      expect(bytes.byteLength).toBe(encoded.byteLength);
      return { views: views.length, bytes };
    };
    // A subarray, so that the views start inside a larger buffer.
    const f32 = new Float32Array(Array.from({ length: 40 }, (_, i) => (i - 20) * 1.37 + 1e-3)).subarray(3);
    const i32 = new Int32Array(Array.from({ length: 40 }, (_, i) => (i - 20) * 100_003)).subarray(3);
    for (const max of [8, 10, 16, 1000]) {
      for (const dtype of ['F32', 'F16', 'BF16'] as const) {
        const split = drawn(encodeF32InViews(f32, dtype, max), max);
        expect(split.bytes.equals(bytesOf(encodeF32(f32, dtype))), `${dtype} in views of ${max}`).toBe(true);
        const perView = Math.floor(max / bytesPerElement(dtype));
        expect(split.views, `${dtype} in views of ${max}`).toBe(Math.ceil(37 / perView));
      }
      for (const dtype of ['I32', 'I64'] as const) {
        expect(drawn(encodeI32InViews(i32, dtype, max), max).bytes.equals(bytesOf(encodeI32(i32, dtype))), `${dtype} in views of ${max}`).toBe(true);
      }
      const f64 = new Float64Array([0.1, -2.5, 1e300]);
      expect(drawn(rawBytesInViews(f64, max), max).bytes.equals(bytesOf(f64))).toBe(true);
    }
    expect(MAX_ENCODED_VIEW_BYTES).toBe(2 ** 30);
    expect(drawn(encodeF32InViews(f32, 'F32'), MAX_ENCODED_VIEW_BYTES).views).toBe(1);
    expect(drawn(encodeF32InViews(new Float32Array(0), 'BF16', 8), 8)).toEqual({ views: 0, bytes: Buffer.alloc(0) });
    expect(() => encodeF32InViews(f32, 'F32', 3)).toThrow(RangeError);
  });
});

// ---------------------------------------------------------------------------

describe('safetensors round trip', () => {
  it('writes and reads back every dtype', async () => {
    const path = tmpPath('all.safetensors');
    const f32 = new Float32Array([0, -0, 1, -1.5, 3.4028234663852886e38, -3e38, 1e-45, 2 ** -126, Infinity, -Infinity, NaN, 0.1]);
    const f16In = new Float32Array([0, -0, 1, -2, 65504, 2 ** -24, 1023 * 2 ** -24, 2 ** -14, 0.333251953125, -Infinity]);
    const bf16In = new Float32Array([0, -0, 1, -3, 3e38, 1.00390625, 1.0078125, 2 ** -133]);
    const i32 = new Int32Array([0, -1, 2147483647, -2147483648, 7]);
    const i64 = new BigInt64Array([0n, -5n, 2147483647n, -2147483648n]);
    const f64 = new Float64Array([0.1, -2.5, 1e300]);
    const tensors: TensorToWrite[] = [
      { name: 'f32', dtype: 'F32', shape: [3, 4], data: f32 },
      { name: 'f16', dtype: 'F16', shape: [10], data: f16In },
      { name: 'bf16', dtype: 'BF16', shape: [2, 2, 2], data: bf16In },
      { name: 'i32', dtype: 'I32', shape: [5], data: i32 },
      { name: 'i64', dtype: 'I64', shape: [4], data: i64 },
      { name: 'i64_from_i32', dtype: 'I64', shape: [5], data: i32 },
      { name: 'f64', dtype: 'F64', shape: [3], data: f64 },
      { name: 'u8', dtype: 'U8', shape: [3], data: new Uint8Array([0, 128, 255]) },
      { name: 'i8', dtype: 'I8', shape: [3], data: new Uint8Array(new Int8Array([-128, -1, 127]).buffer) },
      { name: 'i16', dtype: 'I16', shape: [2], data: new Uint8Array(new Int16Array([-32768, 32767]).buffer) },
      { name: 'bool', dtype: 'BOOL', shape: [3], data: new Uint8Array([1, 0, 1]) },
      { name: 'scalar', dtype: 'F32', shape: [], data: new Float32Array([7]) },
      { name: 'empty', dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
    ];
    await writeSafetensors(path, tensors, { format: 'pt', note: 'x' });
    const file = await openSafetensors(path);
    try {
      expect(file.metadata).toEqual({ format: 'pt', note: 'x' });
      expect(file.tensors.map((t) => t.name)).toEqual(tensors.map((t) => t.name));
      expect(file.info('bf16')).toMatchObject({ dtype: 'BF16', shape: [2, 2, 2], byteLength: 16 });

      expect(Array.from(await file.readF32('f32'))).toEqual(Array.from(f32));
      expect(Object.is((await file.readF32('f32'))[1], -0)).toBe(true);
      const f16 = await file.readF32('f16');
      expect(Array.from(f16)).toEqual(Array.from(f16In));
      expect(Object.is(f16[1], -0)).toBe(true);
      const bf16 = await file.readF32('bf16');
      expect(Array.from(bf16)).toEqual(Array.from(bf16ToF32(f32ToBf16(bf16In))));
      expect(Object.is(bf16[1], -0)).toBe(true);
      expect(bf16[2]).toBe(1);
      expect(Math.abs(bf16[4]! - 3e38) / 3e38).toBeLessThan(2 ** -8);
      expect(bf16[5]).toBe(1); // 1 + 2^-8 is a tie between 1 and 1 + 2^-7: even wins
      expect(bf16[6]).toBe(1.0078125);
      expect(bf16[7]).toBe(2 ** -133);

      expect(Array.from(await file.readI32('i32'))).toEqual(Array.from(i32));
      expect(Array.from(await file.readI32('i64'))).toEqual([0, -5, 2147483647, -2147483648]);
      expect(Array.from(await file.readI32('i64_from_i32'))).toEqual(Array.from(i32));
      expect(Array.from(await file.readF32('f64'))).toEqual(Array.from(f64, (v) => Math.fround(v)));
      expect(Array.from(await file.readI32('u8'))).toEqual([0, 128, 255]);
      expect(Array.from(await file.readI32('i8'))).toEqual([-128, -1, 127]);
      expect(Array.from(await file.readI32('i16'))).toEqual([-32768, 32767]);
      expect(Array.from(await file.readI32('bool'))).toEqual([1, 0, 1]);
      expect(Array.from(await file.readF32('scalar'))).toEqual([7]);
      expect((await file.readF32('empty')).length).toBe(0);
      expect(Array.from(await file.readBytes('u8'))).toEqual([0, 128, 255]);
    } finally {
      await file.close();
    }
  });

  it('lays out a space-padded header and tensors in the given order', async () => {
    const path = tmpPath('layout.safetensors');
    await writeSafetensors(path, [
      { name: 'b', dtype: 'F16', shape: [3], data: new Float32Array([1, 2, 3]) },
      { name: 'a', dtype: 'F32', shape: [1], data: new Float32Array([4]) },
    ]);
    const raw = await readFile(path);
    const headerLength = Number(raw.readBigUInt64LE(0));
    expect(headerLength % 8).toBe(0);
    const headerText = raw.subarray(8, 8 + headerLength).toString('utf8');
    expect(headerText).toMatch(/^\{.*\} *$/);
    const header = JSON.parse(headerText) as Record<string, { data_offsets: number[] }>;
    expect(header.__metadata__).toBeUndefined();
    expect(header.b!.data_offsets).toEqual([0, 6]);
    expect(header.a!.data_offsets).toEqual([6, 10]);
    expect(raw.length).toBe(8 + headerLength + 10);
    expect(raw.readUInt16LE(8 + headerLength)).toBe(0x3c00);
    expect(raw.readFloatLE(8 + headerLength + 6)).toBe(4);

    const parsed = await readSafetensorsHeader(path);
    expect(parsed.metadata).toBeUndefined();
    expect(parsed.tensors.find((t) => t.name === 'a')!.byteOffset).toBe(8 + headerLength + 6);
    expect((await readdir(tmp)).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it('finishes two overlapping writes to one path, leaving one whole file', async () => {
    // Each write has a temporary of its own: with one per process, the second truncated the first's,
    // their bytes mixed in it and the first's rename found it gone.
    const path = tmpPath('overlap.safetensors');
    const later = (ms: number, values: Float32Array) => async () => {
      await new Promise((r) => setTimeout(r, ms));
      return values;
    };
    const slow = new Float32Array(1 << 16).fill(1), quick = new Float32Array(1 << 15).fill(2);
    await Promise.all([
      writeSafetensors(path, [{ name: 'slow', dtype: 'F32', shape: [slow.length], data: later(50, slow) }]),
      writeSafetensors(path, [{ name: 'quick', dtype: 'F32', shape: [quick.length], data: later(5, quick) }]),
    ]);
    // The slow write renamed last: its file stands, whole.
    const file = await openSafetensors(path);
    try {
      expect(file.tensors.map((t) => t.name)).toEqual(['slow']);
      expect(await file.readF32('slow')).toEqual(slow);
    } finally {
      await file.close();
    }
    expect((await readdir(tmp)).filter((n) => n.includes('overlap.safetensors.tmp'))).toEqual([]);
  });

  it('overwrites an existing file', async () => {
    const path = tmpPath('over.safetensors');
    await writeSafetensors(path, [{ name: 'x', dtype: 'F32', shape: [1], data: new Float32Array([1]) }]);
    await writeSafetensors(path, [{ name: 'y', dtype: 'F32', shape: [2], data: new Float32Array([2, 3]) }]);
    const file = await openSafetensors(path);
    expect(file.tensors.map((t) => t.name)).toEqual(['y']);
    expect(Array.from(await file.readF32('y'))).toEqual([2, 3]);
    await file.close();
  });

  it('reports an out-of-range I64 naming the file and tensor', async () => {
    const path = tmpPath('big-i64.safetensors');
    await writeSafetensors(path, [{ name: 'ids', dtype: 'I64', shape: [2], data: new BigInt64Array([1n, 1n << 33n]) }]);
    const file = await openSafetensors(path);
    await expectError(file.readI32('ids'), SafetensorsError, path, "'ids'", 'does not fit');
    await file.close();
  });

  it('rejects bad data when writing', async () => {
    const path = tmpPath('bad-write.safetensors');
    await expectError(writeSafetensors(path, [{ name: 'x', dtype: 'F32', shape: [3], data: new Float32Array(2) }]), SafetensorsError, "'x'", 'needs 12');
    await expectError(writeSafetensors(path, [{ name: 'x', dtype: 'I32', shape: [2], data: new Float32Array(2) }]), SafetensorsError, "'x'", 'Float32Array');
    const dup: TensorToWrite = { name: 'd', dtype: 'F32', shape: [1], data: new Float32Array(1) };
    await expectError(writeSafetensors(path, [dup, dup]), SafetensorsError, "'d'");
    expect((await readdir(tmp)).filter((n) => n.includes('bad-write'))).toEqual([]);
  });

  it('reads tensors given as functions when the file reaches them, one at a time, into the same bytes', async () => {
    const values = [new Float32Array([1.5, -2, 3]), new Float32Array(0), new Float32Array([7, 8, 9, 10, 11])];
    const shapes = [[3], [0], [5]];
    const eager = tmpPath('eager.safetensors');
    await writeSafetensors(eager, values.map((data, i) => ({ name: `t${i}`, dtype: 'BF16' as const, shape: shapes[i]!, data })), { step: '4' });
    const calls: string[] = [];
    let pending = 0;
    const lazy = tmpPath('lazy.safetensors');
    await writeSafetensors(lazy, values.map((data, i) => ({
      name: `t${i}`, dtype: 'BF16' as const, shape: shapes[i]!,
      // t1 is given up front: the two kinds mix in one file.
      data: i === 1 ? data : async () => {
        calls.push(`t${i}`);
        pending++;
        expect(pending).toBe(1); // the writer asks for the next tensor only after the last one is written
        await new Promise((r) => setTimeout(r, 5));
        pending--;
        return data;
      },
    })), { step: '4' });
    expect(calls).toEqual(['t0', 't2']);
    expect(Buffer.compare(await readFile(lazy), await readFile(eager))).toBe(0);
  });

  it('leaves the old file as it was when a tensor read late comes back the wrong size or fails', async () => {
    const path = tmpPath('late.safetensors');
    await writeSafetensors(path, [{ name: 'x', dtype: 'F32', shape: [1], data: new Float32Array([1]) }]);
    const before = await readFile(path);
    const first = { name: 'a', dtype: 'F32' as const, shape: [2], data: async () => new Float32Array([1, 2]) };
    await expectError(writeSafetensors(path, [first, { name: 'b', dtype: 'F32', shape: [3], data: async () => new Float32Array(2) }]), SafetensorsError, path, "'b'", 'needs 12');
    await expect(writeSafetensors(path, [first, { name: 'b', dtype: 'F32', shape: [3], data: async () => { throw new Error('device lost'); } }])).rejects.toThrow('device lost');
    expect(Buffer.compare(await readFile(path), before)).toBe(0);
    expect((await readdir(tmp)).filter((n) => n.includes('late.safetensors.tmp'))).toEqual([]);
  });
});

// ---------------------------------------------------------------------------

describe('safetensors fixtures', () => {
  it('reads the fixture model weights', async () => {
    const cfg = parseQwen3Config(JSON.parse(await readFile(join(MODEL_DIR, 'config.json'), 'utf8')), 'config.json');
    const file = await openSafetensors(MODEL_FILE);
    try {
      expect(file.metadata).toEqual({ format: 'pt' });
      const expected = qwen3WeightShapes(cfg);
      expect(file.tensors.length).toBe(24);
      expect(new Set(file.tensors.map((t) => t.name))).toEqual(new Set(expected.keys()));
      for (const t of file.tensors) {
        expect(t.dtype).toBe('F32');
        expect(t.shape, t.name).toEqual(expected.get(t.name));
      }
      expect(file.info('model.embed_tokens.weight').shape).toEqual([384, 64]);
      expect(file.info('model.layers.1.self_attn.k_proj.weight').shape).toEqual([32, 64]);
      expect(file.info('model.layers.0.mlp.down_proj.weight').shape).toEqual([64, 96]);

      // Cross-check positional reads against slicing the whole file by hand.
      const raw = await readFile(MODEL_FILE);
      const info = file.info('model.layers.1.mlp.up_proj.weight');
      const slice = raw.subarray(info.byteOffset, info.byteOffset + info.byteLength);
      const byHand = new Float32Array(new Uint8Array(slice).buffer);
      const values = await file.readF32(info.name);
      expect(values.length).toBe(96 * 64);
      expect(Array.from(values)).toEqual(Array.from(byHand));
      expect(values.some((v) => v !== 0)).toBe(true);
    } finally {
      await file.close();
    }
  });

  it('reads the fixture golden case', async () => {
    const file = await openSafetensors(CASE_FILE);
    try {
      expect(file.metadata?.about).toContain('PyTorch');
      expect(file.info('input_ids')).toMatchObject({ dtype: 'I32', shape: [2, 12] });
      expect(file.info('loss_mask')).toMatchObject({ dtype: 'F32', shape: [2, 12] });
      expect(file.info('logits')).toMatchObject({ dtype: 'F32', shape: [2, 12, 384] });
      expect(file.info('sft.grad.model.norm.weight')).toMatchObject({ dtype: 'F32', shape: [64] });
      const ids = await file.readI32('input_ids');
      expect(ids.length).toBe(24);
      expect(ids.every((id) => id >= 0 && id < 384)).toBe(true);
      const mask = await file.readF32('loss_mask');
      expect(mask.every((m) => m === 0 || m === 1)).toBe(true);
      expect(mask.some((m) => m === 1)).toBe(true);
      const logits = await file.readF32('logits');
      expect(logits.length).toBe(2 * 12 * 384);
      expect(logits.every(Number.isFinite)).toBe(true);
      await expectError(file.readF32('input_ids'), SafetensorsError, CASE_FILE, "'input_ids'", 'I32');
      await expectError(file.readI32('logits'), SafetensorsError, CASE_FILE, "'logits'", 'F32');
    } finally {
      await file.close();
    }
  });

  it('names a few available tensors when one is missing', async () => {
    const file = await openSafetensors(MODEL_FILE);
    try {
      const err = await expectError(file.readF32('model.layers.7.mlp.up_proj.weight'), SafetensorsError, MODEL_FILE, 'model.layers.7.mlp.up_proj.weight');
      expect(err.message).toContain('model.layers.0.mlp.up_proj.weight');
    } finally {
      await file.close();
    }
  });
});

// ---------------------------------------------------------------------------

describe('safetensors validation', () => {
  /** Writes an 8-byte length, the header text (or a lying length), and `dataBytes` zero bytes. */
  async function rawFile(name: string, header: unknown, dataBytes: number, lengthOverride?: bigint): Promise<string> {
    const path = tmpPath(name);
    const text = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(lengthOverride ?? BigInt(text.length));
    await writeFile(path, Buffer.concat([length, text, Buffer.alloc(dataBytes)]));
    return path;
  }

  const f32 = (shape: number[], begin: number, end: number) => ({ dtype: 'F32', shape, data_offsets: [begin, end] });

  it('accepts a well-formed file whose header lists the tensors out of data order, an empty one included', async () => {
    const path = await rawFile('order.safetensors', { b: f32([2], 8, 16), none: f32([0], 16, 16), a: f32([2], 0, 8) }, 16);
    const file = await openSafetensors(path);
    expect(Array.from(await file.readF32('b'))).toEqual([0, 0]);
    expect(file.metadata).toBeUndefined();
    await file.close();
  });

  it('rejects a file shorter than 8 bytes', async () => {
    const path = tmpPath('short.safetensors');
    await writeFile(path, Buffer.alloc(5));
    await expectError(openSafetensors(path), SafetensorsError, path, '5 bytes');
    const empty = tmpPath('empty.safetensors');
    await writeFile(empty, Buffer.alloc(0));
    await expectError(readSafetensorsHeader(empty), SafetensorsError, empty);
  });

  /** A sparse file (no disk blocks for its zeros) whose header lists one F32 tensor of `elements`. */
  async function sparseF32File(name: string, elements: number, planted: [number, number][] = []): Promise<string> {
    const path = tmpPath(name);
    const text = Buffer.from(JSON.stringify({ big: f32([elements], 0, elements * 4) }), 'utf8');
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(text.length));
    const handle = await open(path, 'w');
    try {
      await handle.write(Buffer.concat([length, text]), 0, 8 + text.length, 0);
      await handle.truncate(8 + text.length + elements * 4);
      for (const [index, value] of planted) await handle.write(Buffer.from(new Float32Array([value]).buffer), 0, 4, 8 + text.length + index * 4);
    } finally {
      await handle.close();
    }
    return path;
  }

  it('reads an F32 tensor past one GiB in views, each element from its own place', async () => {
    // 1.25 GiB: the second view starts at element 2^28; plant values on both sides of it and at the ends.
    const elements = 5 * 2 ** 26;
    const planted: [number, number][] = [[0, 1.5], [2 ** 28 - 1, -2.25], [2 ** 28, 3.75], [elements - 1, 7]];
    const file = await openSafetensors(await sparseF32File('big-f32.safetensors', elements, planted));
    try {
      const values = await file.readF32('big');
      expect(values.length).toBe(elements);
      expect(planted.map(([i]) => values[i])).toEqual(planted.map(([, v]) => v));
      expect([values[1], values[2 ** 28 + 1], values[elements - 2]]).toEqual([0, 0, 0]);
    } finally {
      await file.close();
    }
  });

  it('refuses to read a tensor past 4 GiB as raw bytes, which no JavaScript byte array holds, naming it', async () => {
    const path = await sparseF32File('huge-f32.safetensors', 2 ** 30);
    const file = await openSafetensors(path);
    try {
      await expectError(file.readBytes('big'), SafetensorsError, path, "'big'", '4294967296 bytes', 'readF32');
    } finally {
      await file.close();
    }
  });

  it('rejects a truncated file', async () => {
    const good = tmpPath('good.safetensors');
    await writeSafetensors(good, [{ name: 'w', dtype: 'F32', shape: [4, 4], data: new Float32Array(16) }]);
    const raw = await readFile(good);
    const cut = tmpPath('truncated.safetensors');
    await writeFile(cut, raw.subarray(0, raw.length - 10));
    await expectError(openSafetensors(cut), SafetensorsError, cut, "'w'", 'past the end');
    const cutHeader = tmpPath('truncated-header.safetensors');
    await writeFile(cutHeader, raw.subarray(0, 20));
    await expectError(openSafetensors(cutHeader), SafetensorsError, cutHeader, 'header length');
  });

  it('rejects a header length that lies or is absurd', async () => {
    const lie = await rawFile('lie.safetensors', { a: f32([1], 0, 4) }, 4, 1000n);
    await expectError(openSafetensors(lie), SafetensorsError, lie, 'header length 1000');
    const absurd = await rawFile('absurd.safetensors', { a: f32([1], 0, 4) }, 4, 1n << 40n);
    await expectError(openSafetensors(absurd), SafetensorsError, absurd, 'limit');
  });

  it('rejects a header that is not a JSON object', async () => {
    const notJson = await rawFile('notjson.safetensors', '{"a": {"dtype": "F32",', 0);
    await expectError(openSafetensors(notJson), SafetensorsError, notJson, 'not valid JSON');
    const array = await rawFile('array.safetensors', [1, 2], 0);
    await expectError(openSafetensors(array), SafetensorsError, array, 'JSON object');
    const badMeta = await rawFile('meta.safetensors', { __metadata__: { n: 1 } }, 0);
    await expectError(openSafetensors(badMeta), SafetensorsError, badMeta, '__metadata__');
  });

  it('rejects an unknown dtype', async () => {
    const path = await rawFile('q4.safetensors', { quant: { dtype: 'Q4', shape: [2], data_offsets: [0, 1] } }, 1);
    await expectError(openSafetensors(path), SafetensorsError, path, "'quant'", 'Q4');
  });

  it('rejects bad shapes', async () => {
    for (const shape of [[-1, 2], [1.5], 'abc', [null]]) {
      const path = await rawFile('shape.safetensors', { w: { dtype: 'F32', shape, data_offsets: [0, 4] } }, 4);
      await expectError(openSafetensors(path), SafetensorsError, path, "'w'", 'shape');
    }
  });

  it('rejects bad data_offsets', async () => {
    for (const offsets of [[8, 4], [0], [0, '4'], [0, 4.5], 'x', [-4, 0]]) {
      const path = await rawFile('offsets.safetensors', { w: { dtype: 'F32', shape: [1], data_offsets: offsets } }, 8);
      await expectError(openSafetensors(path), SafetensorsError, path, "'w'", 'data_offsets');
    }
  });

  it('rejects a byte count that disagrees with the shape', async () => {
    const path = await rawFile('count.safetensors', { w: f32([2, 2], 0, 12) }, 16);
    await expectError(openSafetensors(path), SafetensorsError, path, "'w'", 'needs 16');
  });

  it('rejects offsets past the end of the file', async () => {
    const path = await rawFile('past.safetensors', { ok: f32([1], 0, 4), w: f32([4], 4, 20) }, 8);
    await expectError(openSafetensors(path), SafetensorsError, path, "'w'", 'past the end');
  });

  it('rejects overlapping ranges', async () => {
    const path = await rawFile('overlap.safetensors', { a: f32([4], 0, 16), b: f32([4], 8, 24) }, 24);
    await expectError(openSafetensors(path), SafetensorsError, path, "'a'", "'b'", 'overlapping');
  });

  it('rejects data bytes no tensor covers: holes, trailing bytes, a duplicated entry', async () => {
    const hole = await rawFile('hole.safetensors', { a: f32([1], 0, 4), b: f32([1], 8, 12) }, 12);
    await expectError(openSafetensors(hole), SafetensorsError, hole, 'data bytes [4, 8)', "'b'", 'belong to no tensor');
    const trailing = await rawFile('trailing.safetensors', { a: f32([1], 0, 4) }, 12);
    await expectError(openSafetensors(trailing), SafetensorsError, trailing, 'last 8 bytes', 'belong to no tensor');
    // JSON.parse keeps the second of two 'a' entries, so the first one's bytes are a hole.
    const dup = await rawFile('dup.safetensors', '{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}', 8);
    await expectError(openSafetensors(dup), SafetensorsError, dup, 'data bytes [0, 4)', "'a'");
    const emptyHeader = await rawFile('empty-header.safetensors', {}, 4);
    await expectError(openSafetensors(emptyHeader), SafetensorsError, emptyHeader, 'last 4 bytes');
  });

  it("writes and reads back a tensor named '__proto__'", async () => {
    const path = tmpPath('proto.safetensors');
    await writeSafetensors(path, [{ name: '__proto__', dtype: 'F32', shape: [1], data: new Float32Array([7]) }, { name: 'b', dtype: 'F32', shape: [1], data: new Float32Array([8]) }]);
    const file = await openSafetensors(path);
    try {
      expect(file.tensors.map((t) => t.name).sort()).toEqual(['__proto__', 'b']);
      expect(Array.from(await file.readF32('__proto__'))).toEqual([7]);
    } finally {
      await file.close();
    }
  });

  it('rejects a missing file', async () => {
    const path = join(tmp, 'nope.safetensors');
    await expectError(openSafetensors(path), SafetensorsError, path);
  });
});

// ---------------------------------------------------------------------------

describe('Qwen3 config', () => {
  const base = async (): Promise<Record<string, unknown>> => JSON.parse(await readFile(join(MODEL_DIR, 'config.json'), 'utf8'));

  it('parses the fixture config', async () => {
    const cfg = parseQwen3Config(await base(), 'fixture');
    expect(cfg).toEqual<Qwen3Config>({
      vocabSize: 384,
      hiddenSize: 64,
      intermediateSize: 96,
      numLayers: 2,
      numHeads: 4,
      numKvHeads: 2,
      headDim: 16,
      rmsNormEps: 1e-6,
      ropeTheta: 1e6,
      maxPositionEmbeddings: 64,
      tieWordEmbeddings: true,
      bosTokenId: 381,
      eosTokenId: 382,
      torchDtype: 'float32',
    });
    expect(parseQwen3Config(qwen3ConfigToHfJson(cfg), 'round trip')).toEqual(cfg);
    const json = qwen3ConfigToHfJson(cfg);
    expect(json.architectures).toEqual(['Qwen3ForCausalLM']);
    expect(json.model_type).toBe('qwen3');
    expect(json.num_hidden_layers).toBe(2);
  });

  it("defaults head_dim to transformers' Qwen3Config default, 128, not hidden_size / num_attention_heads", async () => {
    const json = await base();
    delete json.head_dim;
    json.hidden_size = 128;
    expect(parseQwen3Config(json, 'x').headDim).toBe(128);
  });

  it("reads RoPE's base from transformers 5's rope_parameters too, and refuses scaled RoPE in either form", async () => {
    const v5 = await base();
    delete v5.rope_theta;
    delete v5.rope_scaling;
    expect(parseQwen3Config({ ...v5, rope_parameters: { rope_type: 'default', rope_theta: 5e5 } }, 'x').ropeTheta).toBe(5e5);
    expect(parseQwen3Config({ ...v5, rope_parameters: { rope_theta: 5e5 } }, 'x').ropeTheta).toBe(5e5);
    expect(parseQwen3Config({ ...v5, rope_parameters: null }, 'x').ropeTheta).toBe(10000); // transformers' default
    // agreeing with a top-level rope_theta is fine; disagreeing is not
    expect(parseQwen3Config({ ...v5, rope_theta: 5e5, rope_parameters: { rope_type: 'default', rope_theta: 5e5 } }, 'x').ropeTheta).toBe(5e5);
    const refused: [unknown, RegExp][] = [
      [{ rope_type: 'yarn', rope_theta: 1e6, factor: 4 }, /c\.json: "rope_parameters" has rope_type "yarn"; only "default"/],
      [{ rope_type: 'default', rope_theta: 1e6, partial_rotary_factor: 0.5 }, /"rope_parameters" has partial_rotary_factor/],
      [{ rope_type: 'default' }, /"rope_parameters" rope_theta must be a positive number, got undefined/],
      [[1e6], /"rope_parameters" must be an object/],
    ];
    for (const [params, message] of refused) expect(() => parseQwen3Config({ ...v5, rope_parameters: params }, 'c.json')).toThrow(message);
    expect(() => parseQwen3Config({ ...v5, rope_theta: 1e6, rope_parameters: { rope_theta: 5e5 } }, 'c.json')).toThrow(/"rope_theta" \(1000000\) disagrees with rope_parameters\.rope_theta \(500000\)/);
  });

  it('names the dtype key its value came from: torch_dtype (transformers 4) or dtype (5)', async () => {
    const { torch_dtype: _t, ...v5 } = await base();
    expect(parseQwen3Config({ ...v5, dtype: 'bfloat16' }, 'c.json').torchDtype).toBe('bfloat16');
    expect(() => parseQwen3Config({ ...v5, dtype: 16 }, 'c.json')).toThrow('c.json: "dtype" must be a string, got 16');
    expect(() => parseQwen3Config({ ...v5, torch_dtype: null, dtype: 16 }, 'c.json')).toThrow('c.json: "dtype" must be a string, got 16');
    expect(() => parseQwen3Config({ ...v5, torch_dtype: 16, dtype: 'bfloat16' }, 'c.json')).toThrow('c.json: "torch_dtype" must be a string, got 16');
  });

  it('rejects invalid configs naming the source and key', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ model_type: 'llama' }, 'model_type'],
      [{ vocab_size: 0 }, 'vocab_size'],
      [{ hidden_size: 64.5 }, 'hidden_size'],
      [{ intermediate_size: '96' }, 'intermediate_size'],
      [{ num_hidden_layers: undefined }, 'num_hidden_layers'],
      [{ num_key_value_heads: 3 }, 'num_key_value_heads'],
      [{ head_dim: 15 }, 'head_dim'],
      [{ rms_norm_eps: -1 }, 'rms_norm_eps'],
      [{ tie_word_embeddings: 'yes' }, 'tie_word_embeddings'],
      [{ attention_bias: true }, 'attention_bias'],
    ];
    for (const [patch, key] of cases) {
      const json = { ...(await base()), ...patch };
      expect(() => parseQwen3Config(json, '/some/config.json'), key).toThrow(HfModelError);
      expect(() => parseQwen3Config(json, '/some/config.json')).toThrow(new RegExp(`/some/config\\.json.*${key}`));
    }
    expect(() => parseQwen3Config([], 'src')).toThrow(HfModelError);
  });

  it('lists weight shapes exactly', () => {
    const cfg: Qwen3Config = {
      vocabSize: 10, hiddenSize: 8, intermediateSize: 12, numLayers: 1, numHeads: 4, numKvHeads: 2, headDim: 6,
      rmsNormEps: 1e-6, ropeTheta: 1e4, maxPositionEmbeddings: 16, tieWordEmbeddings: false, torchDtype: 'float32',
    };
    expect(Object.fromEntries(qwen3WeightShapes(cfg))).toEqual({
      'model.embed_tokens.weight': [10, 8],
      'model.layers.0.self_attn.q_proj.weight': [24, 8],
      'model.layers.0.self_attn.k_proj.weight': [12, 8],
      'model.layers.0.self_attn.v_proj.weight': [12, 8],
      'model.layers.0.self_attn.o_proj.weight': [8, 24],
      'model.layers.0.self_attn.q_norm.weight': [6],
      'model.layers.0.self_attn.k_norm.weight': [6],
      'model.layers.0.mlp.gate_proj.weight': [12, 8],
      'model.layers.0.mlp.up_proj.weight': [12, 8],
      'model.layers.0.mlp.down_proj.weight': [8, 12],
      'model.layers.0.input_layernorm.weight': [8],
      'model.layers.0.post_attention_layernorm.weight': [8],
      'model.norm.weight': [8],
      'lm_head.weight': [10, 8],
    });
    expect(qwen3WeightShapes({ ...cfg, tieWordEmbeddings: true }).has('lm_head.weight')).toBe(false);
  });
});

// ---------------------------------------------------------------------------

describe('Hugging Face model folder', () => {
  let config: Qwen3Config;
  let configJson: Record<string, unknown>;
  let weights: Map<string, Float32Array>;

  beforeAll(async () => {
    configJson = JSON.parse(await readFile(join(MODEL_DIR, 'config.json'), 'utf8'));
    config = parseQwen3Config(configJson, 'fixture');
    const file = await openSafetensors(MODEL_FILE);
    weights = new Map();
    for (const t of file.tensors) weights.set(t.name, await file.readF32(t.name));
    await file.close();
  });

  /** A folder with the given config.json and single-file weights. */
  async function folder(name: string, cfgJson: Record<string, unknown>, tensors: Map<string, Float32Array>): Promise<string> {
    const dir = tmpPath(name);
    await mkdir(dir);
    await writeFile(join(dir, 'config.json'), JSON.stringify(cfgJson));
    const list: TensorToWrite[] = [...tensors].map(([n, data]) => ({ name: n, dtype: 'F32', shape: shapeFor(n, data), data }));
    await writeSafetensors(join(dir, 'model.safetensors'), list, { format: 'pt' });
    return dir;
  }

  function shapeFor(name: string, data: Float32Array): number[] {
    const shape = qwen3WeightShapes({ ...config, tieWordEmbeddings: false }).get(name);
    return shape ?? [data.length];
  }

  async function expectSameWeights(dir: string, expected: Map<string, Float32Array>): Promise<void> {
    const model = await openHfModelFolder(dir);
    try {
      expect(model.tensorNames).toEqual([...qwen3WeightShapes(model.config).keys()]);
      for (const name of model.tensorNames) {
        const got = await model.readF32(name);
        if (!expected.get(name)!.every((v, i) => Object.is(v, got[i]))) expect.fail(`tensor ${name} differs`);
      }
    } finally {
      await model.close();
    }
  }

  it('loads the fixture folder', async () => {
    const model = await openHfModelFolder(MODEL_DIR);
    try {
      expect(model.config.hiddenSize).toBe(64);
      expect(model.config.tieWordEmbeddings).toBe(true);
      expect(model.tensorNames.length).toBe(24);
      expect(model.tensorNames).not.toContain('lm_head.weight');
      expect(model.unusedTensorNames).toEqual([]);
      expect(model.dtypeOf('model.norm.weight')).toBe('F32');
      expect(model.shapeOf('model.layers.0.self_attn.o_proj.weight')).toEqual([64, 64]);
      expect(Array.from(await model.readF32('model.embed_tokens.weight'))).toEqual(Array.from(weights.get('model.embed_tokens.weight')!));
      await expectError(model.readF32('lm_head.weight'), HfModelError, MODEL_DIR, 'lm_head.weight');
    } finally {
      await model.close();
    }
  });

  it('loads a sharded copy with identical values', async () => {
    const dir = tmpPath('sharded');
    await mkdir(dir);
    await copyFile(join(MODEL_DIR, 'config.json'), join(dir, 'config.json'));
    const names = [...weights.keys()];
    const shards = [names.slice(0, 12), names.slice(12)];
    const weightMap: Record<string, string> = {};
    for (const [i, shardNames] of shards.entries()) {
      const shardFile = `model-0000${i + 1}-of-00002.safetensors`;
      const list: TensorToWrite[] = shardNames.map((n) => ({ name: n, dtype: 'F32', shape: shapeFor(n, weights.get(n)!), data: weights.get(n)! }));
      await writeSafetensors(join(dir, shardFile), list, { format: 'pt' });
      for (const n of shardNames) weightMap[n] = shardFile;
    }
    await writeFile(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }));
    await expectSameWeights(dir, weights);
  });

  it('rejects an index that points at the wrong shard or outside the folder', async () => {
    const dir = tmpPath('bad-index');
    await mkdir(dir);
    await copyFile(join(MODEL_DIR, 'config.json'), join(dir, 'config.json'));
    await copyFile(MODEL_FILE, join(dir, 'a.safetensors'));
    await writeSafetensors(join(dir, 'b.safetensors'), []);
    const weightMap: Record<string, string> = Object.fromEntries([...weights.keys()].map((n) => [n, 'a.safetensors']));
    weightMap['model.norm.weight'] = 'b.safetensors';
    await writeFile(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: weightMap }));
    await expectError(openHfModelFolder(dir), HfModelError, dir, 'model.norm.weight', 'b.safetensors');
    weightMap['model.norm.weight'] = '../a.safetensors';
    await writeFile(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: weightMap }));
    await expectError(openHfModelFolder(dir), HfModelError, dir, 'model.norm.weight');
  });

  it("checks a shard's tensors that the index does not list, as a single file's; an empty shard name or a folder is no file", async () => {
    const dir = tmpPath('shard-extra');
    await mkdir(dir);
    await copyFile(join(MODEL_DIR, 'config.json'), join(dir, 'config.json'));
    const extra = 'model.layers.1.mlp.up_proj.weight'.replace('layers.1', `layers.${config.numLayers}`); // a layer config.json does not have
    const list: TensorToWrite[] = [...weights].map(([n, w]) => ({ name: n, dtype: 'F32', shape: shapeFor(n, w), data: w }));
    list.push({ name: extra, dtype: 'F32', shape: [2, 2], data: new Float32Array(4) });
    await writeSafetensors(join(dir, 'a.safetensors'), list);
    const weightMap: Record<string, string> = Object.fromEntries([...weights.keys()].map((n) => [n, 'a.safetensors']));
    await writeFile(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: weightMap }));
    await expectError(openHfModelFolder(dir), HfModelError, dir, extra, 'is not part of the Qwen3 model');
    // an empty shard name would join to the folder itself
    await writeFile(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { ...weightMap, 'model.norm.weight': '' } }));
    await expectError(openHfModelFolder(dir), HfModelError, 'model.norm.weight', 'not a file name in the folder');
    await expectError(openSafetensors(dir), SafetensorsError, dir, 'not a file');
  });

  it('loads a bf16 copy within bf16 precision', async () => {
    const dir = tmpPath('bf16');
    await writeHfModelFolder(dir, config, weights, { dtype: 'BF16' });
    const model = await openHfModelFolder(dir);
    try {
      expect(model.config.torchDtype).toBe('bfloat16');
      for (const name of model.tensorNames) {
        expect(model.dtypeOf(name)).toBe('BF16');
        const got = await model.readF32(name);
        const want = weights.get(name)!;
        for (let i = 0; i < want.length; i++) {
          if (Math.abs(got[i]! - want[i]!) > Math.abs(want[i]!) * 2 ** -8) expect.fail(`${name}[${i}]: ${got[i]} vs ${want[i]}`);
        }
        expect(Array.from(got)).toEqual(Array.from(bf16ToF32(f32ToBf16(want))));
      }
    } finally {
      await model.close();
    }
  });

  it('loads an f16 copy', async () => {
    const dir = tmpPath('f16');
    await writeHfModelFolder(dir, config, weights, { dtype: 'F16' });
    const model = await openHfModelFolder(dir);
    expect(model.config.torchDtype).toBe('float16');
    const want = weights.get('model.layers.0.self_attn.q_proj.weight')!;
    expect(Array.from(await model.readF32('model.layers.0.self_attn.q_proj.weight'))).toEqual(Array.from(f16ToF32(f32ToF16(want))));
    await model.close();
  });

  it('loads an untied copy with lm_head.weight', async () => {
    const lmHead = new Float32Array(384 * 64).map((_, i) => Math.sin(i));
    const tensors = new Map(weights).set('lm_head.weight', lmHead);
    const dir = await folder('untied', { ...configJson, tie_word_embeddings: false }, tensors);
    const model = await openHfModelFolder(dir);
    expect(model.config.tieWordEmbeddings).toBe(false);
    expect(model.tensorNames).toContain('lm_head.weight');
    expect(model.shapeOf('lm_head.weight')).toEqual([384, 64]);
    expect(Array.from(await model.readF32('lm_head.weight'))).toEqual(Array.from(lmHead));
    await model.close();
  });

  it('rejects an untied config without lm_head.weight', async () => {
    const dir = await folder('untied-missing', { ...configJson, tie_word_embeddings: false }, weights);
    await expectError(openHfModelFolder(dir), HfModelError, dir, 'lm_head.weight', 'missing');
  });

  it('ignores lm_head.weight in a tied folder', async () => {
    const tensors = new Map(weights).set('lm_head.weight', new Float32Array(384 * 64));
    const dir = await folder('tied-extra', configJson, tensors);
    const model = await openHfModelFolder(dir);
    expect(model.tensorNames).not.toContain('lm_head.weight');
    expect(model.unusedTensorNames).toEqual([]);
    await model.close();
  });

  it('rejects a config whose hidden_size disagrees with the weights', async () => {
    const dir = await folder('wrong-hidden', { ...configJson, hidden_size: 32 }, weights);
    await expectError(openHfModelFolder(dir), HfModelError, dir, 'model.embed_tokens.weight', 'has shape [384, 64] but config.json implies [384, 32]');
  });

  it('rejects a config whose layer count disagrees with the weights', async () => {
    const fewer = await folder('fewer-layers', { ...configJson, num_hidden_layers: 1 }, weights);
    await expectError(openHfModelFolder(fewer), HfModelError, fewer, 'model.layers.1.');
    const more = await folder('more-layers', { ...configJson, num_hidden_layers: 3 }, weights);
    await expectError(openHfModelFolder(more), HfModelError, more, 'model.layers.2.', 'missing');
  });

  it('rejects a folder missing a tensor', async () => {
    const tensors = new Map(weights);
    tensors.delete('model.layers.1.mlp.up_proj.weight');
    const dir = await folder('missing-tensor', configJson, tensors);
    await expectError(openHfModelFolder(dir), HfModelError, dir, 'model.layers.1.mlp.up_proj.weight', 'missing');
  });

  it('rejects a folder without config.json or weights', async () => {
    const empty = tmpPath('empty-folder');
    await mkdir(empty);
    await expectError(openHfModelFolder(empty), HfModelError, empty, 'config.json');
    await copyFile(join(MODEL_DIR, 'config.json'), join(empty, 'config.json'));
    await expectError(openHfModelFolder(empty), HfModelError, empty, 'model.safetensors');
    await expectError(openHfModelFolder(tmpPath('does-not-exist')), HfModelError, 'config.json');
  });

  it('round-trips writeHfModelFolder and replaces an existing folder', async () => {
    const dir = tmpPath('written');
    await writeHfModelFolder(dir, config, weights, { dtype: 'F32' });
    await expectSameWeights(dir, weights);
    const header = await readSafetensorsHeader(join(dir, 'model.safetensors'));
    expect(header.metadata).toEqual({ format: 'pt' });
    const written = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    expect(written.torch_dtype).toBe('float32');
    expect(written.architectures).toEqual(['Qwen3ForCausalLM']);
    expect(parseQwen3Config(written, 'written')).toEqual(config);

    const scaled = new Map([...weights].map(([n, w]) => [n, w.map((v) => v * 2)]));
    await writeHfModelFolder(dir, config, scaled, { dtype: 'F32' });
    await expectSameWeights(dir, scaled);
    const siblings = await readdir(tmp);
    expect(siblings.filter((n) => n.includes('written') && n !== dir.slice(tmp.length + 1))).toEqual([]);
    expect((await readdir(dir)).sort()).toEqual(['config.json', 'model.safetensors']);
  });

  it('writes weights past maxShardBytes as Hugging Face shards with an index, and reads them back', async () => {
    // The fixture's embedding (384 x 64 f32, 98,304 bytes) is over the limit and gets a file of
    // its own; the layers' tensors (16,384 bytes a projection) fill files of up to 40,000 bytes.
    const maxShardBytes = 40_000;
    for (const dtype of ['F32', 'BF16'] as const) {
      const dir = tmpPath(`sharded-${dtype}`);
      await writeHfModelFolder(dir, config, weights, { dtype, maxShardBytes });
      const files = (await readdir(dir)).sort();
      expect(files).not.toContain('model.safetensors');
      const index = JSON.parse(await readFile(join(dir, 'model.safetensors.index.json'), 'utf8'));
      const shardFiles = files.filter((f) => f.startsWith('model-'));
      const n = shardFiles.length;
      expect(n).toBeGreaterThan(2);
      expect(shardFiles).toEqual(Array.from({ length: n }, (_, i) => `model-${String(i + 1).padStart(5, '0')}-of-${String(n).padStart(5, '0')}.safetensors`));
      expect(files).toEqual(['config.json', ...shardFiles, 'model.safetensors.index.json'].sort());
      const width = dtype === 'F32' ? 4 : 2;
      const shapes = qwen3WeightShapes(config);
      const bytesOf = (name: string) => shapes.get(name)!.reduce((a, b) => a * b, 1) * width;
      expect(Object.keys(index.weight_map).sort()).toEqual([...shapes.keys()].sort());
      expect(index.metadata.total_size).toBe([...shapes.keys()].reduce((sum, name) => sum + bytesOf(name), 0));
      // Each file holds the tensors the index says, in the writer's order, under the limit unless alone.
      const order: string[] = [];
      for (const file of shardFiles) {
        const header = await readSafetensorsHeader(join(dir, file));
        const names = header.tensors.map((t) => t.name);
        for (const name of names) expect(index.weight_map[name]).toBe(file);
        const bytes = names.reduce((sum, name) => sum + bytesOf(name), 0);
        if (names.length > 1) expect(bytes).toBeLessThanOrEqual(maxShardBytes);
        order.push(...names);
      }
      expect(order).toEqual([...shapes.keys()]);
      const model = await openHfModelFolder(dir);
      try {
        expect(model.dtypeOf('model.norm.weight')).toBe(dtype);
        for (const name of model.tensorNames) {
          const got = await model.readF32(name);
          const want = weights.get(name)!;
          const tol = dtype === 'F32' ? 0 : 1 / 256;
          for (let i = 0; i < want.length; i++) if (!(Math.abs(got[i]! - want[i]!) <= tol * Math.abs(want[i]!))) expect.fail(`${name}[${i}]: ${got[i]} vs ${want[i]}`);
        }
      } finally {
        await model.close();
      }
    }
    // The same weights under the default limit stay one file.
    const single = tmpPath('unsharded');
    await writeHfModelFolder(single, config, weights, { dtype: 'F32' });
    expect((await readdir(single)).sort()).toEqual(['config.json', 'model.safetensors']);
  });

  it('plans shards greedily in order: a file closes when the next tensor would pass the limit', () => {
    const t = (name: string, n: number) => ({ name, dtype: 'F32' as const, shape: [n] });
    const list = [t('a', 3), t('b', 2), t('c', 1), t('d', 7), t('e', 2), t('f', 2)];
    // 20 bytes a file: a+b = 20 exactly fills one, c alone (c+d = 32), d (28) over the limit alone, e+f.
    expect(planShards(list, 20).map((s) => s.map((x) => x.name))).toEqual([['a', 'b'], ['c'], ['d'], ['e', 'f']]);
    expect(planShards(list, 1000).map((s) => s.length)).toEqual([6]);
    expect(planShards([], 10)).toEqual([[]]);
    for (const bad of [0, -1, 2.5, Number.NaN]) expect(() => planShards(list, bad)).toThrow(/maxShardBytes/);
  });

  it('splits Qwen3-14B in f32 (59 GB) into files under the 5 GB default, each filled as far as the next tensor allows', () => {
    const q14b: Qwen3Config = {
      ...config, vocabSize: 151936, hiddenSize: 5120, intermediateSize: 17408, numLayers: 40, numHeads: 40, numKvHeads: 8, headDim: 128,
      maxPositionEmbeddings: 40960, tieWordEmbeddings: false,
    };
    const tensors = [...qwen3WeightShapes(q14b)].map(([name, shape]) => ({ name, dtype: 'F32' as const, shape }));
    const bytes = (x: { shape: readonly number[] }) => x.shape.reduce((a, b) => a * b, 1) * 4;
    const total = tensors.reduce((sum, x) => sum + bytes(x), 0);
    expect(total).toBeGreaterThan(50e9); // over the Hub's per-file limit
    const shards = planShards(tensors, DEFAULT_MAX_SHARD_BYTES);
    expect(shards.flat().map((x) => x.name)).toEqual(tensors.map((x) => x.name));
    expect(shards.length).toBeGreaterThanOrEqual(Math.ceil(total / DEFAULT_MAX_SHARD_BYTES));
    shards.forEach((shard, i) => {
      const size = shard.reduce((sum, x) => sum + bytes(x), 0);
      expect(size).toBeLessThanOrEqual(DEFAULT_MAX_SHARD_BYTES);
      if (i + 1 < shards.length) expect(size + bytes(shards[i + 1]![0]!)).toBeGreaterThan(DEFAULT_MAX_SHARD_BYTES);
    });
  });

  it('writeHfModelFiles refuses a folder that already holds weight files, which a reader could take over the new ones', async () => {
    for (const stale of ['model.safetensors', 'model.safetensors.index.json', 'model-00002-of-00003.safetensors']) {
      const dir = tmpPath('stale');
      await mkdir(dir);
      await writeFile(join(dir, stale), 'old');
      await expectError(writeHfModelFiles(dir, config, weights, { dtype: 'F32', maxShardBytes: 40_000 }, 'final-dir'), HfModelError, 'final-dir', stale);
      expect(await readdir(dir)).toEqual([stale]);
    }
    await expectError(writeHfModelFolder(tmpPath('zero'), config, weights, { dtype: 'F32', maxShardBytes: 0 }), HfModelError, 'maxShardBytes', 'got 0');
  });

  it('writeFolderAtomically leaves the old folder as it was when filling fails, and replaces it when it succeeds', async () => {
    const dir = tmpPath('swap-me');
    const name = dir.slice(tmp.length + 1);
    await mkdir(dir);
    await writeFile(join(dir, 'old.txt'), 'old');
    const failing = writeFolderAtomically(dir, async (into) => {
      await writeFile(join(into, 'new.txt'), 'half');
      throw new Error('disk full');
    });
    await expect(failing).rejects.toThrow('disk full');
    expect(await readdir(dir)).toEqual(['old.txt']);
    expect((await readdir(tmp)).filter((n) => n.startsWith(name))).toEqual([name]);

    await writeFolderAtomically(dir, (into) => writeFile(join(into, 'new.txt'), 'whole'));
    expect(await readdir(dir)).toEqual(['new.txt']);
    expect(await readFile(join(dir, 'new.txt'), 'utf8')).toBe('whole');
    expect((await readdir(tmp)).filter((n) => n.startsWith(name))).toEqual([name]);
  });

  it('writeHfModelFolder rejects a wrong tensor set without touching the target', async () => {
    const dir = tmpPath('write-bad');
    const missing = new Map(weights);
    missing.delete('model.norm.weight');
    await expectError(writeHfModelFolder(dir, config, missing, { dtype: 'F32' }), HfModelError, 'model.norm.weight', 'missing');
    const short = new Map(weights).set('model.norm.weight', new Float32Array(3));
    await expectError(writeHfModelFolder(dir, config, short, { dtype: 'F32' }), HfModelError, 'model.norm.weight');
    const extra = new Map(weights).set('lm_head.weight', new Float32Array(384 * 64));
    await expectError(writeHfModelFolder(dir, config, extra, { dtype: 'F32' }), HfModelError, 'lm_head.weight');
    expect((await readdir(tmp)).filter((n) => n.includes('write-bad'))).toEqual([]);
  });
});
