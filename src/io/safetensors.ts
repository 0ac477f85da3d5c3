// safetensors reader and writer (https://github.com/huggingface/safetensors).
//
// Layout: u64 little-endian header length N, N bytes of JSON header
// {name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?: {k: v}},
// then the data region; offsets are relative to the start of the data region.
//
// Checkpoints can be many GB, so the reader never loads a whole file: it reads
// the header, then each tensor's byte range on demand with positional reads.
import { syncDirectory, writeFileAtomically } from './atomic.js';
import { open, type FileHandle } from 'node:fs/promises';
import {
  bytesPerElement,
  decodeToF32,
  decodeToI32,
  DTypeRangeError,
  encodeF32InViews,
  encodeI32InViews,
  isDType,
  isFloatDType,
  rawBytesInViews,
  type DType,
  type EncodedBytes,
} from './dtype.js';

export class SafetensorsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SafetensorsError';
  }
}

export interface TensorInfo {
  name: string;
  dtype: DType;
  shape: number[];
  /** Absolute position of the first byte in the file. */
  byteOffset: number;
  byteLength: number;
}

export interface SafetensorsHeader {
  path: string;
  fileSize: number;
  /** Absolute file position where the data region starts (8 + header length). */
  dataStart: number;
  /** Tensors in header order. */
  tensors: TensorInfo[];
  /** The `__metadata__` entry, or undefined when the file has none. */
  metadata: Record<string, string> | undefined;
}

export interface SafetensorsFile extends SafetensorsHeader {
  has(name: string): boolean;
  /** Throws SafetensorsError naming a few available tensors when `name` is absent. */
  info(name: string): TensorInfo;
  readBytes(name: string): Promise<Uint8Array>;
  /** Any float dtype, converted to f32. */
  readF32(name: string): Promise<Float32Array>;
  /** Any integer or BOOL dtype; I64 values must fit in Int32. */
  readI32(name: string): Promise<Int32Array>;
  close(): Promise<void>;
}

/** Data for one tensor to write. Float32Array is converted for F16/BF16, Int32Array for I64; Uint8Array is taken as raw little-endian bytes. */
export type TensorData = Float32Array | Float64Array | Uint16Array | Int32Array | BigInt64Array | Uint8Array;

/**
 * A tensor's values, or a function that produces them when the writer reaches the tensor, so that
 * a file of many large tensors (a checkpoint read off the GPU) holds one in host memory at a time.
 */
export type TensorSource<T extends TensorData = TensorData> = T | (() => Promise<T>);

/**
 * `read` with its failure, or values of the wrong count, turned into the caller's error: a writer
 * filling a temporary folder names the folder the user asked for, and the tensor.
 */
export function checkedRead(read: () => Promise<Float32Array>, values: number, fail: (problem: string) => Error): () => Promise<Float32Array> {
  return async () => {
    let got: Float32Array;
    try {
      got = await read();
    } catch (err) {
      throw fail(`could not be read (${(err as Error).message})`);
    }
    if (got.length !== values) throw fail(`has ${got.length} values, ${values} expected`);
    return got;
  };
}

export interface TensorToWrite {
  name: string;
  dtype: DType;
  shape: readonly number[];
  data: TensorSource;
}

const MAX_HEADER_BYTES = 100 * 1024 * 1024;
// Bounds both the size of a single read() call (Linux caps it near 2 GiB) and
// the scratch memory used while converting a 16-bit tensor to f32.
const READ_CHUNK_BYTES = 64 * 1024 * 1024;

// ---------------------------------------------------------------------------
// Reading

/** Longest Uint8Array V8 allocates (2^32 - 1 on Node 20; larger tensors are read as f32 in views). */
const MAX_BYTE_ARRAY = 2 ** 32 - 1;
const F32_VIEW_BYTES = 2 ** 30;

async function readExactly(handle: FileHandle, into: Uint8Array, position: number, path: string): Promise<void> {
  let done = 0;
  while (done < into.byteLength) {
    const want = Math.min(into.byteLength - done, READ_CHUNK_BYTES);
    const { bytesRead } = await handle.read(into, done, want, position + done);
    if (bytesRead === 0) {
      throw new SafetensorsError(`safetensors file ${path}: unexpected end of file at byte ${position + done}`);
    }
    done += bytesRead;
  }
}

async function readHeaderFrom(handle: FileHandle, path: string): Promise<SafetensorsHeader> {
  const stat = await handle.stat();
  if (!stat.isFile()) throw new SafetensorsError(`safetensors file ${path}: not a file (a folder?)`);
  const fileSize = stat.size;
  if (fileSize < 8) {
    throw new SafetensorsError(`safetensors file ${path}: only ${fileSize} bytes, shorter than the 8-byte header length`);
  }
  const lengthBytes = new Uint8Array(8);
  await readExactly(handle, lengthBytes, 0, path);
  const headerLength = new DataView(lengthBytes.buffer).getBigUint64(0, true);
  if (headerLength > BigInt(MAX_HEADER_BYTES)) {
    throw new SafetensorsError(`safetensors file ${path}: header length ${headerLength} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  }
  if (headerLength > BigInt(fileSize - 8)) {
    throw new SafetensorsError(`safetensors file ${path}: header length ${headerLength} runs past the end of the ${fileSize}-byte file`);
  }
  const headerBytes = new Uint8Array(Number(headerLength));
  await readExactly(handle, headerBytes, 8, path);
  const dataStart = 8 + headerBytes.byteLength;
  const { tensors, metadata } = parseHeaderJson(headerBytes, path, dataStart, fileSize);
  return { path, fileSize, dataStart, tensors, metadata };
}

function parseHeaderJson(
  bytes: Uint8Array,
  path: string,
  dataStart: number,
  fileSize: number,
): { tensors: TensorInfo[]; metadata: Record<string, string> | undefined } {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw new SafetensorsError(`safetensors file ${path}: header is not valid JSON (${(err as Error).message})`, { cause: err });
  }
  if (!isPlainObject(json)) {
    throw new SafetensorsError(`safetensors file ${path}: header must be a JSON object`);
  }
  const tensors: TensorInfo[] = [];
  let metadata: Record<string, string> | undefined;
  for (const [name, entry] of Object.entries(json)) {
    if (name === '__metadata__') metadata = parseMetadata(entry, path);
    else tensors.push(parseTensorEntry(name, entry, path, dataStart, fileSize));
  }
  checkNoOverlap(tensors, path);
  checkDataCovered(tensors, path, dataStart, fileSize);
  return { tensors, metadata };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseMetadata(entry: unknown, path: string): Record<string, string> {
  if (!isPlainObject(entry)) {
    throw new SafetensorsError(`safetensors file ${path}: __metadata__ must be an object of strings`);
  }
  for (const [key, value] of Object.entries(entry)) {
    if (typeof value !== 'string') {
      throw new SafetensorsError(`safetensors file ${path}: __metadata__.${key} must be a string, got ${JSON.stringify(value)}`);
    }
  }
  return entry as Record<string, string>;
}

function parseTensorEntry(name: string, entry: unknown, path: string, dataStart: number, fileSize: number): TensorInfo {
  const where = `safetensors file ${path}: tensor '${name}'`;
  if (!isPlainObject(entry)) throw new SafetensorsError(`${where}: entry must be an object`);
  const { dtype, shape, data_offsets: offsets } = entry;
  if (typeof dtype !== 'string' || !isDType(dtype)) {
    throw new SafetensorsError(`${where}: unknown or unsupported dtype ${JSON.stringify(dtype)}`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new SafetensorsError(`${where}: shape ${JSON.stringify(shape)} is not an array of non-negative integers`);
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
    offsets[0] > offsets[1]
  ) {
    throw new SafetensorsError(`${where}: data_offsets ${JSON.stringify(offsets)} must be [begin, end] integers with 0 <= begin <= end`);
  }
  const [begin, end] = offsets as [number, number];
  const expected = numElements(shape as number[]) * bytesPerElement(dtype);
  if (end - begin !== expected) {
    throw new SafetensorsError(
      `${where}: data_offsets [${begin}, ${end}] span ${end - begin} bytes but ${dtype} shape [${shape.join(', ')}] needs ${expected}`,
    );
  }
  if (dataStart + end > fileSize) {
    throw new SafetensorsError(`${where}: data_offsets [${begin}, ${end}] run past the end of the file (data region is ${fileSize - dataStart} bytes)`);
  }
  return { name, dtype, shape: [...(shape as number[])], byteOffset: dataStart + begin, byteLength: end - begin };
}

export function numElements(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function checkNoOverlap(tensors: readonly TensorInfo[], path: string): void {
  // Empty tensors occupy no bytes, so they cannot overlap anything.
  const sorted = tensors.filter((t) => t.byteLength > 0).sort((a, b) => a.byteOffset - b.byteOffset);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    const cur = sorted[i]!;
    if (cur.byteOffset < prev.byteOffset + prev.byteLength) {
      throw new SafetensorsError(`safetensors file ${path}: tensors '${prev.name}' and '${cur.name}' have overlapping data ranges`);
    }
  }
}

/**
 * The format's rule (the reference loader's too): the tensors tile the data region from its start
 * to the end of the file. A hole or trailing bytes mean a header entry was lost (JSON.parse keeps
 * only the last of two entries with one name) or offsets were shifted: the file is corrupt.
 */
function checkDataCovered(tensors: readonly TensorInfo[], path: string, dataStart: number, fileSize: number): void {
  const sorted = tensors.filter((t) => t.byteLength > 0).sort((a, b) => a.byteOffset - b.byteOffset);
  let covered = dataStart;
  for (const t of sorted) {
    if (t.byteOffset > covered) {
      throw new SafetensorsError(
        `safetensors file ${path}: data bytes [${covered - dataStart}, ${t.byteOffset - dataStart}) before tensor '${t.name}' belong to no tensor ` +
          '(a lost or duplicated header entry, or shifted data_offsets)',
      );
    }
    covered = t.byteOffset + t.byteLength;
  }
  if (covered < fileSize) {
    throw new SafetensorsError(
      `safetensors file ${path}: the last ${fileSize - covered} bytes of the file belong to no tensor (the data region is ${fileSize - dataStart} bytes, ` +
        `the header's tensors cover ${covered - dataStart}; a lost or duplicated header entry?)`,
    );
  }
}

/** Reads and validates only the header; the file is closed again before returning. */
export async function readSafetensorsHeader(path: string): Promise<SafetensorsHeader> {
  const handle = await openForRead(path);
  try {
    return await readHeaderFrom(handle, path);
  } finally {
    await handle.close();
  }
}

async function openForRead(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r');
  } catch (err) {
    throw new SafetensorsError(`safetensors file ${path}: cannot open (${(err as Error).message})`, { cause: err });
  }
}

/** Opens a file, validates its header, and keeps the handle for on-demand tensor reads. */
export async function openSafetensors(path: string): Promise<SafetensorsFile> {
  const handle = await openForRead(path);
  let header: SafetensorsHeader;
  try {
    header = await readHeaderFrom(handle, path);
  } catch (err) {
    await handle.close();
    throw err;
  }
  return new OpenSafetensors(handle, header);
}

class OpenSafetensors implements SafetensorsFile {
  readonly path: string;
  readonly fileSize: number;
  readonly dataStart: number;
  readonly tensors: TensorInfo[];
  readonly metadata: Record<string, string> | undefined;
  private readonly byName: Map<string, TensorInfo>;
  private closed = false;

  constructor(
    private readonly handle: FileHandle,
    header: SafetensorsHeader,
  ) {
    this.path = header.path;
    this.fileSize = header.fileSize;
    this.dataStart = header.dataStart;
    this.tensors = header.tensors;
    this.metadata = header.metadata;
    this.byName = new Map(header.tensors.map((t) => [t.name, t]));
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  info(name: string): TensorInfo {
    const found = this.byName.get(name);
    if (found) return found;
    throw new SafetensorsError(
      `safetensors file ${this.path}: no tensor named '${name}' (${this.tensors.length} tensors, e.g. ${describeSomeNames(this.tensors.map((t) => t.name), name)})`,
    );
  }

  async readBytes(name: string): Promise<Uint8Array> {
    const t = this.info(name);
    this.checkOpen();
    if (t.byteLength > MAX_BYTE_ARRAY) {
      throw new SafetensorsError(
        `safetensors file ${this.path}: tensor '${name}' is ${t.byteLength} bytes, more than one JavaScript byte array holds (${MAX_BYTE_ARRAY}); read it with readF32`,
      );
    }
    const out = new Uint8Array(t.byteLength);
    await readExactly(this.handle, out, t.byteOffset, this.path);
    return out;
  }

  async readF32(name: string): Promise<Float32Array> {
    const t = this.info(name);
    const dtype = t.dtype;
    if (!isFloatDType(dtype)) {
      throw new SafetensorsError(`safetensors file ${this.path}: tensor '${name}' has dtype ${dtype}, not a float dtype (use readI32)`);
    }
    this.checkOpen();
    const out = new Float32Array(t.byteLength / bytesPerElement(dtype));
    if (dtype === 'F32') {
      // In views of at most a GiB: one Uint8Array over a buffer past 4 GiB is too long for V8.
      for (let done = 0; done < t.byteLength; done += F32_VIEW_BYTES) {
        const length = Math.min(F32_VIEW_BYTES, t.byteLength - done);
        await readExactly(this.handle, new Uint8Array(out.buffer, done, length), t.byteOffset + done, this.path);
      }
      return out;
    }
    await this.readConvertedInChunks(t, (bytes, firstElement) => {
      decodeToF32(bytes, dtype, out.subarray(firstElement));
    });
    return out;
  }

  async readI32(name: string): Promise<Int32Array> {
    const t = this.info(name);
    const dtype = t.dtype;
    if (isFloatDType(dtype)) {
      throw new SafetensorsError(`safetensors file ${this.path}: tensor '${name}' has dtype ${dtype}, not an integer dtype (use readF32)`);
    }
    const bytes = await this.readBytes(name);
    try {
      return decodeToI32(bytes, dtype);
    } catch (err) {
      if (err instanceof DTypeRangeError) {
        throw new SafetensorsError(`safetensors file ${this.path}: tensor '${name}': ${err.message}`, { cause: err });
      }
      throw err;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close();
  }

  private checkOpen(): void {
    if (this.closed) throw new SafetensorsError(`safetensors file ${this.path}: already closed`);
  }

  // Converting through a bounded scratch buffer keeps peak memory near the size
  // of the f32 result rather than result + whole source tensor.
  private async readConvertedInChunks(t: TensorInfo, convert: (bytes: Uint8Array, firstElement: number) => void): Promise<void> {
    const elementSize = bytesPerElement(t.dtype);
    const chunkBytes = Math.min(t.byteLength, Math.max(elementSize, READ_CHUNK_BYTES - (READ_CHUNK_BYTES % elementSize)));
    const scratch = new Uint8Array(chunkBytes);
    for (let done = 0; done < t.byteLength; done += chunkBytes) {
      const bytes = scratch.subarray(0, Math.min(chunkBytes, t.byteLength - done));
      await readExactly(this.handle, bytes, t.byteOffset + done, this.path);
      convert(bytes, done / elementSize);
    }
  }
}

/** Up to `limit` names, preferring those that share the requested name's last dotted parts. */
export function describeSomeNames(names: readonly string[], wanted: string, limit = 6): string {
  if (names.length === 0) return 'none';
  const tail = wanted.split('.').slice(-2).join('.');
  const similar = names.filter((n) => n.endsWith(tail));
  const picked = [...new Set([...similar, ...names])].slice(0, limit);
  const more = names.length > picked.length ? ', ...' : '';
  return picked.map((n) => `'${n}'`).join(', ') + more;
}

// ---------------------------------------------------------------------------
// Writing

/** The bytes `t` takes in the file, from its dtype and shape (checked here). */
function tensorBytes(t: TensorToWrite, path: string): number {
  const where = `safetensors file ${path}: tensor '${t.name}'`;
  if (!isDType(t.dtype)) throw new SafetensorsError(`${where}: unknown dtype ${JSON.stringify(t.dtype)}`);
  if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new SafetensorsError(`${where}: shape ${JSON.stringify(t.shape)} is not an array of non-negative integers`);
  }
  return numElements(t.shape) * bytesPerElement(t.dtype);
}

/** The tensor's bytes, their count checked against its shape; drawn in views (one past 4 GiB is no one Uint8Array). */
function encodeTensor(t: TensorToWrite & { data: TensorData }, path: string): EncodedBytes {
  const where = `safetensors file ${path}: tensor '${t.name}'`;
  const expected = tensorBytes(t, path);
  const bytes = encodeData(t, where);
  if (bytes.byteLength !== expected) {
    throw new SafetensorsError(`${where}: data has ${bytes.byteLength} bytes as ${t.dtype} but shape [${t.shape.join(', ')}] needs ${expected}`);
  }
  return bytes;
}

function encodeData({ dtype, data }: { dtype: DType; data: TensorData }, where: string): EncodedBytes {
  if (data instanceof Uint8Array) return rawBytesInViews(data);
  if (data instanceof Float32Array && (dtype === 'F32' || dtype === 'F16' || dtype === 'BF16')) return encodeF32InViews(data, dtype);
  if (data instanceof Int32Array && (dtype === 'I32' || dtype === 'I64')) return encodeI32InViews(data, dtype);
  const rawMatches =
    (data instanceof Float64Array && dtype === 'F64') ||
    (data instanceof Uint16Array && (dtype === 'F16' || dtype === 'BF16')) ||
    (data instanceof BigInt64Array && dtype === 'I64');
  if (rawMatches) return rawBytesInViews(data);
  throw new SafetensorsError(`${where}: cannot write ${data.constructor.name} data as ${dtype}`);
}

function buildHeader(tensors: readonly TensorToWrite[], sizes: readonly number[], metadata: Record<string, string> | undefined, path: string): Uint8Array {
  // No prototype: a tensor named '__proto__' must become an entry, not the object's prototype.
  const header: Record<string, unknown> = Object.create(null);
  if (metadata !== undefined) {
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== 'string') throw new SafetensorsError(`safetensors file ${path}: metadata value for '${key}' must be a string`);
    }
    header.__metadata__ = metadata;
  }
  let offset = 0;
  tensors.forEach((t, i) => {
    if (t.name === '__metadata__' || Object.hasOwn(header, t.name)) {
      throw new SafetensorsError(`safetensors file ${path}: tensor name '${t.name}' is reserved or duplicated`);
    }
    header[t.name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + sizes[i]!] };
    offset += sizes[i]!;
  });
  const json = new TextEncoder().encode(JSON.stringify(header));
  // Padding keeps the data region 8-byte aligned for readers that mmap the file.
  const padded = new Uint8Array(Math.ceil(json.byteLength / 8) * 8).fill(0x20);
  padded.set(json);
  return padded;
}

/**
 * Writes tensors in the given order. Crash-safe: the bytes go to a temporary
 * sibling that is fsynced and then renamed over `path`, so readers see either
 * the old file or the complete new one. A tensor given as a function is called
 * when the file reaches it and its bytes are dropped once written; one that
 * comes back the wrong size stops the write with `path` left as it was.
 */
export async function writeSafetensors(
  path: string,
  tensors: readonly TensorToWrite[],
  metadata?: Record<string, string>,
): Promise<void> {
  // Values given up front are checked before anything is written (converted only as written).
  const encoded = tensors.map((t) => (typeof t.data === 'function' ? null : encodeTensor({ ...t, data: t.data }, path)));
  const header = buildHeader(tensors, tensors.map((t) => tensorBytes(t, path)), metadata, path);
  const lengthBytes = new Uint8Array(8);
  new DataView(lengthBytes.buffer).setBigUint64(0, BigInt(header.byteLength), true);
  async function* chunks(): AsyncGenerator<Uint8Array> {
    yield lengthBytes;
    yield header;
    for (const [i, t] of tensors.entries()) {
      yield* (encoded[i] ?? encodeTensor({ ...t, data: await (t.data as () => Promise<TensorData>)() }, path)).views();
    }
  }
  await writeFileAtomically(path, chunks());
}

export { syncDirectory, writeFileAtomically };
