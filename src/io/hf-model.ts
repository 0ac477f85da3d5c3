// Hugging Face Qwen3 model folders: config.json plus model.safetensors, or
// shards listed in model.safetensors.index.json.
import { pathExists, writeFolderAtomically } from './atomic.js';
import { readdir, readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { bytesPerElement, isFloatDType, type DType } from './dtype.js';
import {
  describeSomeNames,
  numElements,
  openSafetensors,
  writeFileAtomically,
  writeSafetensors,
  type SafetensorsFile,
  checkedRead,
  type TensorSource,
  type TensorToWrite,
} from './safetensors.js';

export class HfModelError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HfModelError';
  }
}

export interface Qwen3Config {
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  rmsNormEps: number;
  ropeTheta: number;
  maxPositionEmbeddings: number;
  tieWordEmbeddings: boolean;
  bosTokenId?: number;
  /** HF allows a list of stop tokens here. */
  eosTokenId?: number | number[];
  /** HF `torch_dtype` string, e.g. "bfloat16"; "float32" when config.json has none. */
  torchDtype: string;
}

/** A parsed `config.json` object. */
export type HfConfigJson = Record<string, unknown>;

// ---------------------------------------------------------------------------
// config.json

class ConfigReader {
  constructor(
    private readonly json: HfConfigJson,
    private readonly source: string,
  ) {}

  fail(key: string, problem: string): never {
    throw new HfModelError(`${this.source}: "${key}" ${problem}`);
  }

  private got(key: string): string {
    return `got ${JSON.stringify(this.json[key])}`;
  }

  has(key: string): boolean {
    return this.json[key] !== undefined && this.json[key] !== null;
  }

  positiveInt(key: string, fallback?: number): number {
    if (!this.has(key)) {
      if (fallback !== undefined) return fallback;
      this.fail(key, 'is missing');
    }
    const v = this.json[key];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) this.fail(key, `must be a positive integer, ${this.got(key)}`);
    return v;
  }

  positiveNumber(key: string, fallback: number): number {
    if (!this.has(key)) return fallback;
    const v = this.json[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) this.fail(key, `must be a positive number, ${this.got(key)}`);
    return v;
  }

  boolean(key: string, fallback: boolean): boolean {
    if (!this.has(key)) return fallback;
    const v = this.json[key];
    if (typeof v !== 'boolean') this.fail(key, `must be true or false, ${this.got(key)}`);
    return v;
  }

  tokenId(key: string): number | undefined {
    if (!this.has(key)) return undefined;
    const v = this.json[key];
    if (!isTokenId(v)) this.fail(key, `must be a non-negative integer, ${this.got(key)}`);
    return v;
  }

  tokenIds(key: string): number | number[] | undefined {
    if (!this.has(key)) return undefined;
    const v = this.json[key];
    if (isTokenId(v)) return v;
    if (Array.isArray(v) && v.length > 0 && v.every(isTokenId)) return [...v];
    return this.fail(key, `must be a non-negative integer or a list of them, ${this.got(key)}`);
  }

  /** Keys whose non-default values change the math or the weight set; we only implement the defaults. */
  rejectUnsupported(key: string, supported: unknown): void {
    if (this.has(key) && this.json[key] !== supported) {
      this.fail(key, `is ${JSON.stringify(this.json[key])}; only ${JSON.stringify(supported)} is supported`);
    }
  }
}

function isTokenId(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/**
 * Validates a Hugging Face Qwen3 `config.json`. `source` names the file in errors.
 * Optional keys fall back to the transformers Qwen3Config defaults.
 */
export function parseQwen3Config(json: unknown, source: string): Qwen3Config {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new HfModelError(`${source}: config must be a JSON object`);
  }
  const r: ConfigReader = new ConfigReader(json as HfConfigJson, source);
  const cfgJson = json as HfConfigJson;
  if (cfgJson.model_type !== 'qwen3') r.fail('model_type', `must be "qwen3", got ${JSON.stringify(cfgJson.model_type)}`);
  r.rejectUnsupported('attention_bias', false);
  r.rejectUnsupported('hidden_act', 'silu');
  r.rejectUnsupported('use_sliding_window', false);
  r.rejectUnsupported('rope_scaling', null);

  const hiddenSize = r.positiveInt('hidden_size');
  const numHeads = r.positiveInt('num_attention_heads');
  const numKvHeads = r.positiveInt('num_key_value_heads', numHeads);
  if (numHeads % numKvHeads !== 0) {
    r.fail('num_key_value_heads', `(${numKvHeads}) must divide num_attention_heads (${numHeads})`);
  }
  // transformers' Qwen3Config defaults head_dim to 128 (not hidden_size / num_attention_heads).
  const headDim = r.positiveInt('head_dim', 128);
  // Rotary embeddings rotate pairs of dimensions.
  if (headDim % 2 !== 0) r.fail('head_dim', `(${headDim}) must be even for rotary embeddings`);

  // transformers 5 writes `dtype` where 4.x wrote `torch_dtype`; a problem names the key the value came from.
  const dtypeKey = cfgJson.torch_dtype !== undefined && cfgJson.torch_dtype !== null ? 'torch_dtype' : 'dtype';
  const torchDtype = cfgJson[dtypeKey] ?? 'float32';
  if (typeof torchDtype !== 'string') r.fail(dtypeKey, `must be a string, got ${JSON.stringify(torchDtype)}`);

  const config: Qwen3Config = {
    vocabSize: r.positiveInt('vocab_size'),
    hiddenSize,
    intermediateSize: r.positiveInt('intermediate_size'),
    numLayers: r.positiveInt('num_hidden_layers'),
    numHeads,
    numKvHeads,
    headDim,
    rmsNormEps: r.positiveNumber('rms_norm_eps', 1e-6),
    ropeTheta: ropeThetaOf(r, cfgJson),
    maxPositionEmbeddings: r.positiveInt('max_position_embeddings', 32768),
    tieWordEmbeddings: r.boolean('tie_word_embeddings', false),
    torchDtype,
  };
  const bos = r.tokenId('bos_token_id');
  const eos = r.tokenIds('eos_token_id');
  if (bos !== undefined) config.bosTokenId = bos;
  if (eos !== undefined) config.eosTokenId = eos;
  return config;
}

/**
 * RoPE's base. transformers 5 writes `rope_parameters: { rope_type, rope_theta }` in place of the
 * top-level `rope_theta` and `rope_scaling` of 4.x; either form is read, and a scaled RoPE (any
 * rope_type but "default", or any other parameter) is refused as rope_scaling is.
 */
function ropeThetaOf(r: ConfigReader, json: HfConfigJson): number {
  const top = r.positiveNumber('rope_theta', 10000);
  const params = json.rope_parameters;
  if (params === undefined || params === null) return top;
  if (typeof params !== 'object' || Array.isArray(params)) r.fail('rope_parameters', `must be an object, got ${JSON.stringify(params)}`);
  const p = params as HfConfigJson;
  const type = p.rope_type ?? 'default';
  if (type !== 'default') r.fail('rope_parameters', `has rope_type ${JSON.stringify(type)}; only "default" (unscaled RoPE) is supported`);
  const others = Object.keys(p).filter((k) => k !== 'rope_type' && k !== 'rope_theta');
  if (others.length > 0) r.fail('rope_parameters', `has ${others.join(', ')}; only rope_type "default" and rope_theta are supported`);
  const theta = p.rope_theta;
  if (typeof theta !== 'number' || !Number.isFinite(theta) || theta <= 0) r.fail('rope_parameters', `rope_theta must be a positive number, got ${JSON.stringify(theta)}`);
  if (r.has('rope_theta') && top !== theta) r.fail('rope_theta', `(${top}) disagrees with rope_parameters.rope_theta (${theta})`);
  return theta;
}

/** The inverse of parseQwen3Config, in the shape transformers writes. */
export function qwen3ConfigToHfJson(cfg: Qwen3Config): HfConfigJson {
  const json: HfConfigJson = {
    architectures: ['Qwen3ForCausalLM'],
    model_type: 'qwen3',
    vocab_size: cfg.vocabSize,
    hidden_size: cfg.hiddenSize,
    intermediate_size: cfg.intermediateSize,
    num_hidden_layers: cfg.numLayers,
    num_attention_heads: cfg.numHeads,
    num_key_value_heads: cfg.numKvHeads,
    head_dim: cfg.headDim,
    hidden_act: 'silu',
    max_position_embeddings: cfg.maxPositionEmbeddings,
    rms_norm_eps: cfg.rmsNormEps,
    rope_theta: cfg.ropeTheta,
    rope_scaling: null,
    tie_word_embeddings: cfg.tieWordEmbeddings,
    attention_bias: false,
    attention_dropout: 0.0,
    use_sliding_window: false,
    sliding_window: null,
    max_window_layers: cfg.numLayers,
    torch_dtype: cfg.torchDtype,
  };
  if (cfg.bosTokenId !== undefined) json.bos_token_id = cfg.bosTokenId;
  if (cfg.eosTokenId !== undefined) json.eos_token_id = Array.isArray(cfg.eosTokenId) ? [...cfg.eosTokenId] : cfg.eosTokenId;
  return json;
}

// ---------------------------------------------------------------------------
// Weight names and shapes

/** HF tensor name -> shape, in the order transformers lists the parameters. */
export function qwen3WeightShapes(cfg: Qwen3Config): Map<string, number[]> {
  const { vocabSize: V, hiddenSize: H, intermediateSize: I, headDim: D } = cfg;
  const q = cfg.numHeads * D;
  const kv = cfg.numKvHeads * D;
  const shapes = new Map<string, number[]>([['model.embed_tokens.weight', [V, H]]]);
  for (let n = 0; n < cfg.numLayers; n++) {
    const p = `model.layers.${n}.`;
    shapes.set(`${p}self_attn.q_proj.weight`, [q, H]);
    shapes.set(`${p}self_attn.k_proj.weight`, [kv, H]);
    shapes.set(`${p}self_attn.v_proj.weight`, [kv, H]);
    shapes.set(`${p}self_attn.o_proj.weight`, [H, q]);
    shapes.set(`${p}self_attn.q_norm.weight`, [D]);
    shapes.set(`${p}self_attn.k_norm.weight`, [D]);
    shapes.set(`${p}mlp.gate_proj.weight`, [I, H]);
    shapes.set(`${p}mlp.up_proj.weight`, [I, H]);
    shapes.set(`${p}mlp.down_proj.weight`, [H, I]);
    shapes.set(`${p}input_layernorm.weight`, [H]);
    shapes.set(`${p}post_attention_layernorm.weight`, [H]);
  }
  shapes.set('model.norm.weight', [H]);
  if (!cfg.tieWordEmbeddings) shapes.set('lm_head.weight', [V, H]);
  return shapes;
}

const fmtShape = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

// ---------------------------------------------------------------------------
// Reading a folder

export interface HfModelFolder {
  dir: string;
  config: Qwen3Config;
  /** The weights the config implies, in qwen3WeightShapes order. */
  tensorNames: string[];
  /** Other tensors in the folder outside `model.*` (e.g. a classifier head); readable but not validated. */
  unusedTensorNames: string[];
  dtypeOf(name: string): DType;
  shapeOf(name: string): number[];
  readF32(name: string): Promise<Float32Array>;
  close(): Promise<void>;
}

const SINGLE_FILE = 'model.safetensors';
const INDEX_FILE = 'model.safetensors.index.json';


async function readJsonFile(dir: string, file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(join(dir, file), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'not found' : `unreadable (${(err as Error).message})`;
    throw new HfModelError(`model folder ${dir}: ${file} ${why}`, { cause: err });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HfModelError(`model folder ${dir}: ${file} is not valid JSON (${(err as Error).message})`, { cause: err });
  }
}

interface WeightSources {
  files: SafetensorsFile[];
  /** Tensor name -> the open file holding it. */
  locate: Map<string, SafetensorsFile>;
}

async function closeAll(files: readonly SafetensorsFile[]): Promise<void> {
  await Promise.all(files.map((f) => f.close().catch(() => undefined)));
}

async function openWeightSources(dir: string): Promise<WeightSources> {
  // transformers prefers the single file when both are present; so do we.
  if (await pathExists(join(dir, SINGLE_FILE))) {
    const file = await openSafetensors(join(dir, SINGLE_FILE));
    return { files: [file], locate: new Map(file.tensors.map((t) => [t.name, file])) };
  }
  if (await pathExists(join(dir, INDEX_FILE))) return openShards(dir, parseWeightMap(dir, await readJsonFile(dir, INDEX_FILE)));
  throw new HfModelError(`model folder ${dir}: no ${SINGLE_FILE} or ${INDEX_FILE} found`);
}

function parseWeightMap(dir: string, index: unknown): Map<string, string> {
  const where = `model folder ${dir}: ${INDEX_FILE}`;
  const weightMap = (index as { weight_map?: unknown } | null)?.weight_map;
  if (typeof weightMap !== 'object' || weightMap === null || Array.isArray(weightMap)) {
    throw new HfModelError(`${where} has no "weight_map" object`);
  }
  const map = new Map<string, string>();
  for (const [name, shard] of Object.entries(weightMap)) {
    // Shard names come from a downloaded file; keep them inside the folder.
    if (typeof shard !== 'string' || shard === '' || shard !== basename(shard) || shard === '..' || shard === '.') {
      throw new HfModelError(`${where} maps tensor '${name}' to ${JSON.stringify(shard)}, which is not a file name in the folder`);
    }
    map.set(name, shard);
  }
  return map;
}

async function openShards(dir: string, weightMap: Map<string, string>): Promise<WeightSources> {
  const byShard = new Map<string, SafetensorsFile>();
  try {
    for (const shard of new Set(weightMap.values())) byShard.set(shard, await openSafetensors(join(dir, shard)));
    const locate = new Map<string, SafetensorsFile>();
    for (const [name, shard] of weightMap) {
      const file = byShard.get(shard)!;
      if (!file.has(name)) {
        throw new HfModelError(`model folder ${dir}: ${INDEX_FILE} maps tensor '${name}' to ${shard}, which does not contain it`);
      }
      locate.set(name, file);
    }
    // A shard's tensors that the index does not list are still in the folder (transformers loads
    // whole shards): they are checked as a single file's would be.
    for (const file of byShard.values()) {
      for (const t of file.tensors) if (!locate.has(t.name)) locate.set(t.name, file);
    }
    return { files: [...byShard.values()], locate };
  } catch (err) {
    await closeAll([...byShard.values()]);
    throw err;
  }
}

// Non-persistent buffers some older exports saved; they carry no learned weights.
const IGNORABLE = /\.rotary_emb\.inv_freq$/;

function validateWeights(dir: string, config: Qwen3Config, locate: Map<string, SafetensorsFile>): string[] {
  const expected = qwen3WeightShapes(config);
  for (const [name, shape] of expected) {
    const file = locate.get(name);
    if (!file) {
      const hint = name === 'lm_head.weight' ? ' (config.json has tie_word_embeddings false)' : '';
      throw new HfModelError(`model folder ${dir}: tensor ${name} is missing; config.json implies shape ${fmtShape(shape)}${hint}`);
    }
    const info = file.info(name);
    if (!sameShape(info.shape, shape)) {
      throw new HfModelError(`model folder ${dir}: tensor ${name} has shape ${fmtShape(info.shape)} but config.json implies ${fmtShape(shape)}`);
    }
    if (!isFloatDType(info.dtype)) {
      throw new HfModelError(`model folder ${dir}: tensor ${name} has dtype ${info.dtype}, expected a float dtype`);
    }
  }
  const unused: string[] = [];
  for (const name of locate.keys()) {
    if (expected.has(name) || IGNORABLE.test(name)) continue;
    // A tied model computes logits from the embedding; a stray copy is dropped.
    if (name === 'lm_head.weight' && config.tieWordEmbeddings) continue;
    // Extra model.* weights (another layer, biases) mean config.json describes a different model.
    if (name.startsWith('model.') || name.startsWith('lm_head.')) {
      throw new HfModelError(`model folder ${dir}: tensor ${name} is not part of the Qwen3 model config.json describes`);
    }
    unused.push(name);
  }
  return unused;
}

/** A model folder's config.json, read and validated (without opening the weights). */
export async function readQwen3Config(dir: string): Promise<Qwen3Config> {
  return parseQwen3Config(await readJsonFile(dir, 'config.json'), join(dir, 'config.json'));
}

/** Opens a Qwen3 model folder and checks every weight against config.json before returning. */
export async function openHfModelFolder(dir: string): Promise<HfModelFolder> {
  const config = await readQwen3Config(dir);
  const { files, locate } = await openWeightSources(dir);
  let unusedTensorNames: string[];
  try {
    unusedTensorNames = validateWeights(dir, config, locate);
  } catch (err) {
    await closeAll(files);
    throw err;
  }
  const tensorNames = [...qwen3WeightShapes(config).keys()];
  const readable = new Set([...tensorNames, ...unusedTensorNames]);
  const fileOf = (name: string): SafetensorsFile => {
    if (readable.has(name)) return locate.get(name)!;
    throw new HfModelError(`model folder ${dir}: no tensor named '${name}' (e.g. ${describeSomeNames([...readable], name)})`);
  };
  return {
    dir,
    config,
    tensorNames,
    unusedTensorNames,
    dtypeOf: (name) => fileOf(name).info(name).dtype,
    shapeOf: (name) => [...fileOf(name).info(name).shape],
    readF32: async (name) => fileOf(name).readF32(name),
    close: () => closeAll(files),
  };
}

// ---------------------------------------------------------------------------
// Writing a folder

export type HfWeightDType = 'F32' | 'BF16' | 'F16';

const TORCH_DTYPE: Record<HfWeightDType, string> = { F32: 'float32', BF16: 'bfloat16', F16: 'float16' };

function tensorsToWrite(dir: string, config: Qwen3Config, tensors: ReadonlyMap<string, TensorSource<Float32Array>>, dtype: HfWeightDType): TensorToWrite[] {
  const expected = qwen3WeightShapes(config);
  for (const name of tensors.keys()) {
    if (!expected.has(name)) throw new HfModelError(`writing model folder ${dir}: tensor ${name} is not part of this Qwen3 config`);
  }
  return [...expected].map(([name, shape]) => {
    const data = tensors.get(name);
    if (!data) throw new HfModelError(`writing model folder ${dir}: tensor ${name} is missing`);
    const fail = (problem: string) => new HfModelError(`writing model folder ${dir}: tensor ${name} ${problem}`);
    // A tensor read when the file reaches it is checked then, under the same name.
    if (typeof data === 'function') return { name, dtype, shape, data: checkedRead(data, numElements(shape), fail) };
    if (data.length !== numElements(shape)) throw fail(`has ${data.length} values but shape ${fmtShape(shape)} needs ${numElements(shape)}`);
    return { name, dtype, shape, data };
  });
}

/** Hugging Face's default largest shard (save_pretrained's max_shard_size "5GB", in decimal bytes). */
export const DEFAULT_MAX_SHARD_BYTES = 5_000_000_000;

export interface HfWriteOptions {
  dtype: HfWeightDType;
  /**
   * Largest weight file in bytes (tensor data; each file adds a header of a few KB). Weights
   * that fit go to one model.safetensors; more are split, in order, into
   * model-0000i-of-0000n.safetensors files listed in model.safetensors.index.json, as
   * save_pretrained does: the Hub refuses files over 50 GB, and a 14B model in f32 is 59 GB.
   * Default DEFAULT_MAX_SHARD_BYTES. A tensor larger than this gets a file of its own.
   */
  maxShardBytes?: number;
}

/** The file names a model folder's weights may take: the single file, the index and its shards. */
export function isWeightFileName(name: string): boolean {
  return name === SINGLE_FILE || name === INDEX_FILE || SHARD_NAME.test(name);
}

const SHARD_NAME = /^model-\d{5,}-of-\d{5,}\.safetensors$/;

function shardFileName(index: number, count: number): string {
  const pad = (n: number) => String(n).padStart(5, '0');
  return `model-${pad(index + 1)}-of-${pad(count)}.safetensors`;
}

/**
 * Splits tensors, kept in order, into files of at most `maxShardBytes` of data each: a file is
 * closed when the next tensor would take it past the limit, and a tensor over the limit on its
 * own gets a file to itself. Returns each file's tensors (one list when all fit).
 */
export function planShards<T extends { name: string; dtype: DType; shape: readonly number[] }>(tensors: readonly T[], maxShardBytes: number): T[][] {
  if (!Number.isSafeInteger(maxShardBytes) || maxShardBytes < 1) throw new RangeError(`maxShardBytes must be a whole number of bytes >= 1, got ${maxShardBytes}`);
  const shards: T[][] = [];
  let current: T[] = [];
  let currentBytes = 0;
  for (const t of tensors) {
    const bytes = numElements(t.shape) * bytesPerElement(t.dtype);
    if (current.length > 0 && currentBytes + bytes > maxShardBytes) {
      shards.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(t);
    currentBytes += bytes;
  }
  if (current.length > 0 || shards.length === 0) shards.push(current);
  return shards;
}

/**
 * Writes config.json and the weights (a tensor given as a function is read when its file
 * reaches it: see writeSafetensors), in one model.safetensors or in shards (HfWriteOptions).
 * The folder is built as a temporary sibling and renamed into place (an existing `dir` is moved
 * aside first and then deleted), so readers never see a half-written folder. Files that were in
 * an existing `dir` are not carried over.
 */
export async function writeHfModelFolder(
  dir: string,
  config: Qwen3Config,
  tensors: ReadonlyMap<string, TensorSource<Float32Array>>,
  options: HfWriteOptions,
): Promise<void> {
  await writeFolderAtomically(resolve(dir), (tmp) => writeHfModelFiles(tmp, config, tensors, options, dir));
}

/**
 * Writes config.json and the weights (each file fsynced; the index, if any, after its shards)
 * into the existing folder `into`, which must not hold weight files yet (a reader would take a
 * stale model.safetensors over new shards), for a caller that builds a larger folder atomically
 * (a checkpoint); errors name `finalDir`, the folder the user asked for, not the temporary one
 * being filled.
 */
export async function writeHfModelFiles(
  into: string,
  config: Qwen3Config,
  tensors: ReadonlyMap<string, TensorSource<Float32Array>>,
  options: HfWriteOptions,
  finalDir = into,
): Promise<void> {
  if (!Object.hasOwn(TORCH_DTYPE, options.dtype)) throw new HfModelError(`writing model folder ${finalDir}: unsupported dtype ${JSON.stringify(options.dtype)}`);
  const maxShardBytes = options.maxShardBytes ?? DEFAULT_MAX_SHARD_BYTES;
  if (!Number.isSafeInteger(maxShardBytes) || maxShardBytes < 1) {
    throw new HfModelError(`writing model folder ${finalDir}: maxShardBytes must be a whole number of bytes >= 1, got ${maxShardBytes}`);
  }
  const stale = (await readdir(into)).filter(isWeightFileName);
  if (stale.length > 0) throw new HfModelError(`writing model folder ${finalDir}: ${into} already holds ${stale.join(', ')}`);
  const list = tensorsToWrite(finalDir, config, tensors, options.dtype);
  const json = qwen3ConfigToHfJson({ ...config, torchDtype: TORCH_DTYPE[options.dtype] });
  await writeFileAtomically(join(into, 'config.json'), [new TextEncoder().encode(JSON.stringify(json, null, 2) + '\n')]);
  const shards = planShards(list, maxShardBytes);
  if (shards.length === 1) {
    await writeSafetensors(join(into, SINGLE_FILE), list, { format: 'pt' });
    return;
  }
  const weightMap: Record<string, string> = {};
  let totalSize = 0;
  for (const [i, shard] of shards.entries()) {
    const file = shardFileName(i, shards.length);
    await writeSafetensors(join(into, file), shard, { format: 'pt' });
    for (const t of shard) {
      weightMap[t.name] = file;
      totalSize += numElements(t.shape) * bytesPerElement(t.dtype);
    }
  }
  const index = { metadata: { total_size: totalSize }, weight_map: weightMap };
  await writeFileAtomically(join(into, INDEX_FILE), [new TextEncoder().encode(JSON.stringify(index, null, 2) + '\n')]);
}
