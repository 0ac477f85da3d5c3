// Element types of safetensors files and conversions between them.
//
// safetensors stores every element little-endian. All conversions below view
// file bytes through typed arrays, which use the host byte order, so a
// big-endian host would silently decode garbage: refuse it up front instead.
const hostIsLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
if (!hostIsLittleEndian) {
  throw new Error('src/io/dtype: big-endian hosts are not supported (safetensors is little-endian)');
}

export const DTYPES = ['F64', 'F32', 'F16', 'BF16', 'I64', 'I32', 'I16', 'I8', 'U8', 'BOOL'] as const;
export type DType = (typeof DTYPES)[number];

/** The dtypes this project writes; the others are accepted only when reading. */
export type WritableDType = 'F32' | 'F16' | 'BF16' | 'I32' | 'I64';
export type FloatDType = 'F64' | 'F32' | 'F16' | 'BF16';

const BYTES_PER_ELEMENT: Record<DType, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

export function isDType(name: string): name is DType {
  return (DTYPES as readonly string[]).includes(name);
}

export function isFloatDType(dtype: DType): dtype is FloatDType {
  return dtype === 'F64' || dtype === 'F32' || dtype === 'F16' || dtype === 'BF16';
}

export function bytesPerElement(dtype: DType): number {
  return BYTES_PER_ELEMENT[dtype];
}

/** Thrown when an I64 value does not fit in Int32; carries the element index. */
export class DTypeRangeError extends RangeError {
  constructor(
    message: string,
    readonly index: number,
  ) {
    super(message);
    this.name = 'DTypeRangeError';
  }
}

// ---------------------------------------------------------------------------
// 16-bit float decoding

export function bf16ToF32(bits: Uint16Array, out: Float32Array = new Float32Array(bits.length)): Float32Array {
  // bf16 is the top half of an f32, so widening is exact: shift the bits up.
  const outBits = new Uint32Array(out.buffer, out.byteOffset, bits.length);
  for (let i = 0; i < bits.length; i++) outBits[i] = bits[i]! << 16;
  return out;
}

let f16Table: Uint32Array | undefined;

// A 65536-entry table (256 KB) makes multi-GB f16 checkpoints decode at memory
// speed and keeps the tricky cases (subnormals, inf, nan payloads) in one place.
function f16BitsTable(): Uint32Array {
  if (f16Table) return f16Table;
  const table = new Uint32Array(65536);
  const scratch = new Float32Array(1);
  const scratchBits = new Uint32Array(scratch.buffer);
  for (let h = 0; h < 65536; h++) {
    const sign = (h & 0x8000) << 16;
    const exp = (h >>> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0x1f) {
      table[h] = (sign | 0x7f800000 | (mant << 13)) >>> 0;
    } else if (exp !== 0) {
      table[h] = (sign | ((exp - 15 + 127) << 23) | (mant << 13)) >>> 0;
    } else {
      // Zero or subnormal: mant * 2^-24 is exact in f32.
      scratch[0] = mant * 2 ** -24;
      table[h] = (sign | scratchBits[0]!) >>> 0;
    }
  }
  f16Table = table;
  return table;
}

export function f16ToF32(bits: Uint16Array, out: Float32Array = new Float32Array(bits.length)): Float32Array {
  const table = f16BitsTable();
  const outBits = new Uint32Array(out.buffer, out.byteOffset, bits.length);
  for (let i = 0; i < bits.length; i++) outBits[i] = table[bits[i]!]!;
  return out;
}

export function f64ToF32(values: Float64Array, out: Float32Array = new Float32Array(values.length)): Float32Array {
  // Typed-array stores round to nearest even, which is what we want.
  out.set(values);
  return out;
}

// ---------------------------------------------------------------------------
// 16-bit float encoding

function f32BitsToBf16(x: number): number {
  if ((x & 0x7fffffff) > 0x7f800000) {
    // NaN: truncation could clear every mantissa bit and yield inf, so force a quiet bit.
    return ((x >>> 16) | 0x40) & 0xffff;
  }
  const roundingBias = 0x7fff + ((x >>> 16) & 1);
  return ((x + roundingBias) >>> 16) & 0xffff;
}

function f32BitsToF16(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) return sign | f16SubnormalMantissa(mant | 0x800000, 14 - e);
  let h = sign | (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (up to inf).
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h++;
  return h;
}

// `full` is the 24-bit significand; shifting right by `shift` gives units of 2^-24.
function f16SubnormalMantissa(full: number, shift: number): number {
  if (shift > 25) return 0;
  const m = full >>> shift;
  const rest = full & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  return rest > half || (rest === half && (m & 1) === 1) ? m + 1 : m;
}

export function f32ToBf16(values: Float32Array): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = f32BitsToBf16(bits[i]!);
  return out;
}

export function f32ToF16(values: Float32Array): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = f32BitsToF16(bits[i]!);
  return out;
}

// ---------------------------------------------------------------------------
// Integers

export function i64ToI32(values: BigInt64Array): Int32Array {
  // Compare 32-bit halves instead of going through BigInt per element: a value
  // fits in Int32 exactly when the high word is the sign extension of the low.
  const words = new Int32Array(values.buffer, values.byteOffset, values.length * 2);
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const lo = words[2 * i]!;
    const hi = words[2 * i + 1]!;
    if (hi !== lo >> 31) {
      throw new DTypeRangeError(`I64 value ${values[i]} at index ${i} does not fit in Int32`, i);
    }
    out[i] = lo;
  }
  return out;
}

export function i32ToI64(values: Int32Array): BigInt64Array {
  const out = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = BigInt(values[i]!);
  return out;
}

// ---------------------------------------------------------------------------
// Raw little-endian bytes <-> arrays

/** Copies into a fresh buffer when needed so typed-array views are aligned. */
function aligned(bytes: Uint8Array, elementSize: number): Uint8Array {
  if (bytes.byteOffset % elementSize === 0) return bytes;
  return bytes.slice();
}

function checkWhole(bytes: Uint8Array, dtype: DType): number {
  const size = bytesPerElement(dtype);
  if (bytes.byteLength % size !== 0) {
    throw new RangeError(`${bytes.byteLength} bytes is not a whole number of ${dtype} elements`);
  }
  return bytes.byteLength / size;
}

/**
 * Decodes little-endian float bytes into f32. With `out`, writes there (it must
 * hold at least as many elements) so callers can decode a large tensor chunk by chunk.
 */
export function decodeToF32(bytes: Uint8Array, dtype: FloatDType, out?: Float32Array): Float32Array {
  const n = checkWhole(bytes, dtype);
  const dst = out ?? new Float32Array(n);
  if (dst.length < n) throw new RangeError(`output holds ${dst.length} elements, need ${n}`);
  const src = aligned(bytes, bytesPerElement(dtype));
  switch (dtype) {
    case 'F32':
      dst.set(new Float32Array(src.buffer, src.byteOffset, n));
      return dst;
    case 'F64':
      return f64ToF32(new Float64Array(src.buffer, src.byteOffset, n), dst);
    case 'BF16':
      return bf16ToF32(new Uint16Array(src.buffer, src.byteOffset, n), dst);
    case 'F16':
      return f16ToF32(new Uint16Array(src.buffer, src.byteOffset, n), dst);
  }
}

/** Decodes little-endian integer (or BOOL) bytes into Int32; I64 is range-checked. */
export function decodeToI32(bytes: Uint8Array, dtype: Exclude<DType, FloatDType>): Int32Array {
  const n = checkWhole(bytes, dtype);
  const src = aligned(bytes, bytesPerElement(dtype));
  switch (dtype) {
    case 'I32':
      return new Int32Array(src.buffer.slice(src.byteOffset, src.byteOffset + src.byteLength));
    case 'I64':
      return i64ToI32(new BigInt64Array(src.buffer, src.byteOffset, n));
    case 'I16':
      return Int32Array.from(new Int16Array(src.buffer, src.byteOffset, n));
    case 'I8':
      return Int32Array.from(new Int8Array(src.buffer, src.byteOffset, n));
    case 'U8':
    case 'BOOL':
      return Int32Array.from(src);
  }
}

function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/** Encodes f32 values as little-endian bytes of a float dtype. */
export function encodeF32(values: Float32Array, dtype: 'F32' | 'F16' | 'BF16'): Uint8Array {
  switch (dtype) {
    case 'F32':
      return bytesOf(values);
    case 'BF16':
      return bytesOf(f32ToBf16(values));
    case 'F16':
      return bytesOf(f32ToF16(values));
  }
}

export function encodeI32(values: Int32Array, dtype: 'I32' | 'I64'): Uint8Array {
  return dtype === 'I32' ? bytesOf(values) : bytesOf(i32ToI64(values));
}

/**
 * Most bytes one encoded view holds. V8 on Node 20 refuses a Uint8Array longer than 2^32 bytes,
 * so a tensor past 4 GiB cannot be one view; the reader reads F32 in views of a GiB too.
 */
export const MAX_ENCODED_VIEW_BYTES = 2 ** 30;

/** A tensor's encoded bytes: their count up front, the bytes themselves in views when drawn. */
export interface EncodedBytes {
  byteLength: number;
  /** The bytes in order; each view is converted (F16, BF16, I64) only when the consumer reaches it. */
  views(): Iterable<Uint8Array>;
}

/** What inViews needs of a typed array: its length and subarray(). */
interface Elements<T> {
  readonly length: number;
  subarray(begin: number, end: number): T;
}

/** `values` encoded `outBytes` bytes per element, in runs whose encoding fits `maxViewBytes`. */
function inViews<T>(values: Elements<T>, outBytes: number, maxViewBytes: number, encode: (part: T) => Uint8Array): EncodedBytes {
  if (!Number.isSafeInteger(maxViewBytes) || maxViewBytes < outBytes) {
    throw new RangeError(`a view of ${maxViewBytes} bytes cannot hold one ${outBytes}-byte element`);
  }
  const perView = Math.floor(maxViewBytes / outBytes);
  return {
    byteLength: values.length * outBytes,
    *views() {
      for (let start = 0; start < values.length; start += perView) yield encode(values.subarray(start, start + perView));
    },
  };
}

/** encodeF32 for a tensor of any size: views of at most `maxViewBytes`, each converted as it is drawn. */
export function encodeF32InViews(values: Float32Array, dtype: 'F32' | 'F16' | 'BF16', maxViewBytes = MAX_ENCODED_VIEW_BYTES): EncodedBytes {
  return inViews(values, bytesPerElement(dtype), maxViewBytes, (part) => encodeF32(part, dtype));
}

/** encodeI32 for a tensor of any size (I64 doubles it), in views of at most `maxViewBytes`. */
export function encodeI32InViews(values: Int32Array, dtype: 'I32' | 'I64', maxViewBytes = MAX_ENCODED_VIEW_BYTES): EncodedBytes {
  return inViews(values, bytesPerElement(dtype), maxViewBytes, (part) => encodeI32(part, dtype));
}

/** The raw bytes of `values`, unconverted, in views of at most `maxViewBytes`. */
export function rawBytesInViews(
  values: Uint8Array | Uint16Array | Float64Array | BigInt64Array,
  maxViewBytes = MAX_ENCODED_VIEW_BYTES,
): EncodedBytes {
  const split = values as Elements<ArrayBufferView>; // the four subarray()s differ only in their return type
  return inViews(split, values.BYTES_PER_ELEMENT, maxViewBytes, bytesOf);
}
