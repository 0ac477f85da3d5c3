// Training checkpoints: a Hugging Face style model folder (config.json,
// model.safetensors or its shards, tokenizer files) that also holds optimizer.safetensors
// (AdamW m.<name>, v.<name>) and trainer_state.json.
//
// Crash safety: a checkpoint is built completely in `<dir>.tmp-<pid>` (every
// file fsynced) and then renamed into place, so a SIGKILL or power loss at any
// moment leaves either no folder or a complete one under the final name, and
// the previous checkpoint untouched.
import { pathExists, writeFolderAtomically } from '../io/atomic.js';
import { copyFile, mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { isFloatDType } from '../io/dtype.js';
import { isWeightFileName, openHfModelFolder, qwen3WeightShapes, writeHfModelFiles, type HfModelFolder, type Qwen3Config } from '../io/hf-model.js';
import {
  checkedRead,
  numElements,
  openSafetensors,
  writeFileAtomically,
  writeSafetensors,
  type SafetensorsFile,
  type TensorSource,
  type TensorToWrite,
} from '../io/safetensors.js';
import type { PairSamplerState } from '../data/sampler.js';
import { decimalInteger } from './number-text.js';
import { STAGES, type Stage } from './config.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Where training stands, enough to resume exactly. */
export interface TrainerState {
  stage: Stage;
  /** Optimizer steps finished in this stage. */
  step: number;
  epoch: number;
  /** Pairs of the current epoch already consumed (both stages sample pairs; resume reads `sampler`). */
  dataPosition: number;
  sampler: PairSamplerState | null;
  /** Whatever the trainer needs to continue its random streams. */
  rng: JsonValue;
  /** configHash() of the run's config; a resume with different training settings is refused. */
  configHash: string;
  /** dataFingerprint() of the run's prepared data; absent in checkpoints written before it existed. */
  dataHash?: string;
  /** Lines of metrics.jsonl at the time (MetricsLog keepRows when resuming). */
  metricsRows: number;
  extra?: JsonValue;
}

/** A tensor's values, or a function that reads them when the checkpoint file reaches it (one in host memory at a time). */
export type WeightSource = TensorSource<Float32Array>;

export interface OptimizerState {
  m: ReadonlyMap<string, WeightSource>;
  v: ReadonlyMap<string, WeightSource>;
  /** AdamW step count (bias correction). */
  step: number;
}

export interface CheckpointContent {
  config: Qwen3Config;
  weights: ReadonlyMap<string, WeightSource>;
  optimizer?: OptimizerState;
  trainer: TrainerState;
  /** Files copied in by base name (tokenizer.json, tokenizer_config.json, ...). */
  tokenizerFiles?: readonly string[];
  /** Weight precision in the weight files. Default 'f32'; 'bf16' halves the size but a resume from it is lossy. */
  dtype?: 'f32' | 'bf16';
  /** Largest weight file (HfWriteOptions.maxShardBytes); the optimizer state stays one file. */
  maxShardBytes?: number;
}

export interface LoadedCheckpoint {
  dir: string;
  config: Qwen3Config;
  weights: Map<string, Float32Array>;
  optimizer?: { m: Map<string, Float32Array>; v: Map<string, Float32Array>; step: number };
  trainer: TrainerState;
  /** Paths of the tokenizer files inside the checkpoint. */
  tokenizerFiles: string[];
}

export class CheckpointError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CheckpointError';
  }
}

/** A checkpoint folder's trainer state; its presence marks a folder as a checkpoint of train.js. */
export const STATE_FILE = 'trainer_state.json';
const OPTIMIZER_FILE = 'optimizer.safetensors';
const STATE_FORMAT = 'patarm-trainer-state';
const STATE_VERSION = 1;
/** Files the checkpoint writer owns besides the weight files; a tokenizer file may replace none of them. */
const RESERVED = new Set(['config.json', OPTIMIZER_FILE, STATE_FILE]);

/** On-disk trainer_state.json: the state plus what the folder must contain. */
interface StateFile extends TrainerState {
  format: typeof STATE_FORMAT;
  version: number;
  hasOptimizer: boolean;
  tokenizerFiles: string[];
}

function validateTrainerState(value: unknown, where: string): TrainerState {
  const bad = (what: string): never => {
    throw new CheckpointError(`${where}: ${what}`);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) bad('trainer state must be a JSON object');
  const s = value as Record<string, unknown>;
  if (!(STAGES as readonly unknown[]).includes(s.stage)) bad(`"stage" must be one of ${STAGES.join(', ')}, got ${JSON.stringify(s.stage)}`);
  for (const key of ['step', 'epoch', 'dataPosition', 'metricsRows'] as const) {
    if (!Number.isSafeInteger(s[key]) || (s[key] as number) < 0) bad(`"${key}" must be an integer >= 0, got ${JSON.stringify(s[key])}`);
  }
  if (typeof s.configHash !== 'string' || s.configHash === '') bad(`"configHash" must be a non-empty string, got ${JSON.stringify(s.configHash)}`);
  if (s.dataHash !== undefined && (typeof s.dataHash !== 'string' || s.dataHash === '')) bad(`"dataHash" must be a non-empty string when present, got ${JSON.stringify(s.dataHash)}`);
  if (s.sampler !== null && (typeof s.sampler !== 'object' || Array.isArray(s.sampler))) bad('"sampler" must be an object or null');
  // Checked as a value, not a key: JSON.stringify drops a key whose value is undefined, so a state
  // written with rng: undefined would be one this check refuses on loading.
  if (s.rng === undefined) bad('"rng" is missing (null when there is no random state to keep)');
  return value as TrainerState;
}

function checkOptimizer(dir: string, config: Qwen3Config, weights: ReadonlyMap<string, WeightSource>, opt: OptimizerState): void {
  if (!Number.isSafeInteger(opt.step) || opt.step < 0) throw new CheckpointError(`writing checkpoint ${dir}: optimizer step must be an integer >= 0, got ${opt.step}`);
  const shapes = qwen3WeightShapes(config);
  for (const [label, moments] of [['m', opt.m], ['v', opt.v]] as const) {
    for (const name of weights.keys()) {
      const t = moments.get(name);
      if (!t) throw new CheckpointError(`writing checkpoint ${dir}: optimizer ${label} has no tensor for weight ${name}`);
      // A moment given up front is checked against the config's shape now, even beside a weight read
      // later: found only when optimizer.safetensors is reached, it would be named by the temporary
      // folder, after the weights were written. A moment read later is checked as it is written; a
      // name the config lacks is refused by writeHfModelFiles.
      const shape = shapes.get(name);
      if (typeof t !== 'function' && shape !== undefined && t.length !== numElements(shape)) {
        throw new CheckpointError(`writing checkpoint ${dir}: optimizer ${label}.${name} has ${t.length} values, the weight ${numElements(shape)}`);
      }
    }
    for (const name of moments.keys()) {
      if (!weights.has(name)) throw new CheckpointError(`writing checkpoint ${dir}: optimizer ${label} has tensor ${name}, which is not a weight`);
    }
  }
}

/**
 * Flushes a file written by someone else's call (copyFile). Opened read-only: fsync needs no write
 * access on Linux, and a copy keeps its source's mode, so a read-only tokenizer.json gives a copy
 * its non-root owner may not open for writing.
 */
async function fsyncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}



/** Writes a complete checkpoint folder at `dir` (see the file comment for crash safety). */
export async function writeCheckpoint(dir: string, content: CheckpointContent): Promise<void> {
  const target = resolve(dir);
  const trainer = validateTrainerState(content.trainer, `writing checkpoint ${target}`);
  if (content.optimizer) checkOptimizer(target, content.config, content.weights, content.optimizer);
  const tokenizerFiles = content.tokenizerFiles ?? [];
  const names = tokenizerFiles.map((f) => basename(f));
  for (const name of names) {
    if (RESERVED.has(name) || isWeightFileName(name)) throw new CheckpointError(`writing checkpoint ${target}: tokenizer file ${name} would replace a checkpoint file`);
  }
  if (new Set(names).size !== names.length) throw new CheckpointError(`writing checkpoint ${target}: two tokenizer files share a name (${names.join(', ')})`);

  await writeFolderAtomically(target, async (tmp) => {
    // Validates names and shapes against the config and writes config.json and the weights (fsynced).
    const dtype = content.dtype === 'bf16' ? 'BF16' : 'F32';
    await writeHfModelFiles(tmp, content.config, content.weights, { dtype, maxShardBytes: content.maxShardBytes }, target);
    if (content.optimizer) {
      const { m, v, step } = content.optimizer;
      const tensors: TensorToWrite[] = [];
      const shapes = qwen3WeightShapes(content.config); // every weight is there: writeHfModelFiles checked
      for (const [label, moments] of [['m', m], ['v', v]] as const) {
        for (const name of content.weights.keys()) {
          const size = numElements(shapes.get(name)!), data = moments.get(name)!;
          const fail = (problem: string) => new CheckpointError(`writing checkpoint ${target}: optimizer ${label}.${name} ${problem}`);
          tensors.push({ name: `${label}.${name}`, dtype: 'F32', shape: [size], data: typeof data === 'function' ? checkedRead(data, size, fail) : data });
        }
      }
      await writeSafetensors(join(tmp, OPTIMIZER_FILE), tensors, { format: 'pt', step: String(step) });
    }
    for (const file of tokenizerFiles) {
      const into = join(tmp, basename(file));
      await copyFile(file, into);
      await fsyncFile(into);
    }
    const state: StateFile = {
      format: STATE_FORMAT,
      version: STATE_VERSION,
      hasOptimizer: content.optimizer !== undefined,
      tokenizerFiles: names,
      ...trainer,
    };
    await writeFileAtomically(join(tmp, STATE_FILE), [new TextEncoder().encode(`${JSON.stringify(state, null, 2)}\n`)]);
  });
}

async function readStateFile(dir: string): Promise<StateFile> {
  const path = join(dir, STATE_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new CheckpointError(`checkpoint ${dir}: ${STATE_FILE} ${missing ? 'is missing (not a checkpoint folder, or an incomplete copy)' : `is unreadable (${(err as Error).message})`}`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new CheckpointError(`checkpoint ${dir}: ${STATE_FILE} is not valid JSON (${(err as Error).message})`, { cause: err });
  }
  const s = json as Partial<StateFile> | null;
  if (s?.format !== STATE_FORMAT) throw new CheckpointError(`checkpoint ${dir}: ${STATE_FILE} has format ${JSON.stringify(s?.format)}, expected "${STATE_FORMAT}"`);
  if (s.version !== STATE_VERSION) throw new CheckpointError(`checkpoint ${dir}: ${STATE_FILE} has version ${JSON.stringify(s.version)}; this build reads version ${STATE_VERSION}`);
  if (typeof s.hasOptimizer !== 'boolean' || !Array.isArray(s.tokenizerFiles) || !s.tokenizerFiles.every((f) => typeof f === 'string')) {
    throw new CheckpointError(`checkpoint ${dir}: ${STATE_FILE} lacks "hasOptimizer" (boolean) or "tokenizerFiles" (list of names)`);
  }
  validateTrainerState(s, `checkpoint ${dir}: ${STATE_FILE}`);
  return s as StateFile;
}

/** optimizer.safetensors opened, every m./v. tensor checked against its weight's size from the header. */
async function openOptimizer(dir: string, config: Qwen3Config): Promise<{ file: SafetensorsFile; step: number }> {
  const path = join(dir, OPTIMIZER_FILE);
  if (!(await pathExists(path))) throw new CheckpointError(`checkpoint ${dir}: ${OPTIMIZER_FILE} is missing but ${STATE_FILE} says the optimizer was saved`);
  let file: SafetensorsFile;
  try {
    file = await openSafetensors(path);
  } catch (err) {
    throw new CheckpointError(`checkpoint ${dir}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const step = decimalInteger(file.metadata?.step ?? '') ?? -1; // '' or '0x10' is no step
    if (step < 0) throw new CheckpointError(`checkpoint ${dir}: ${OPTIMIZER_FILE} metadata has no valid "step" (got ${JSON.stringify(file.metadata?.step)})`);
    for (const [name, shape] of qwen3WeightShapes(config)) {
      const size = numElements(shape);
      for (const label of ['m', 'v'] as const) {
        const key = `${label}.${name}`;
        if (!file.has(key)) throw new CheckpointError(`checkpoint ${dir}: ${OPTIMIZER_FILE} has no tensor ${key}`);
        const info = file.info(key);
        if (!isFloatDType(info.dtype)) throw new CheckpointError(`checkpoint ${dir}: ${OPTIMIZER_FILE} tensor ${key} is ${info.dtype}, not a float type`);
        const values = numElements(info.shape);
        if (values !== size) throw new CheckpointError(`checkpoint ${dir}: ${OPTIMIZER_FILE} tensor ${key} has ${values} values, the weight ${name} ${size}`);
      }
    }
    return { file, step };
  } catch (err) {
    await file.close();
    throw err;
  }
}

export interface ReadCheckpointOptions {
  /** Load optimizer.safetensors too (needed to resume, not to evaluate). Default true. */
  optimizer?: boolean;
}

/**
 * A checkpoint opened to be read one tensor at a time (a resume uploads each as it comes, never
 * holding the whole state in host memory). Everything readCheckpoint checks, bar the bytes
 * themselves, is checked on opening, from the files' headers.
 */
export interface OpenedCheckpoint {
  dir: string;
  config: Qwen3Config;
  trainer: TrainerState;
  /** Paths of the tokenizer files inside the checkpoint. */
  tokenizerFiles: string[];
  /** AdamW's step count, when the optimizer was saved and asked for (readMoment then works). */
  optimizerStep?: number;
  readWeight(name: string): Promise<Float32Array>;
  readMoment(label: 'm' | 'v', name: string): Promise<Float32Array>;
  close(): Promise<void>;
}

/** Opens and validates a checkpoint; every missing or corrupt piece is a CheckpointError naming it. */
export async function openCheckpoint(dir: string, options: ReadCheckpointOptions = {}): Promise<OpenedCheckpoint> {
  const full = resolve(dir);
  if (!(await pathExists(full))) throw new CheckpointError(`checkpoint ${full}: folder not found`);
  const state = await readStateFile(full);
  const { format: _f, version: _v, hasOptimizer, tokenizerFiles, ...trainer } = state;
  const paths = tokenizerFiles.map((name) => join(full, name));
  for (const path of paths) {
    if (!(await pathExists(path))) throw new CheckpointError(`checkpoint ${full}: tokenizer file ${basename(path)} listed in ${STATE_FILE} is missing`);
  }
  let folder: HfModelFolder;
  try {
    folder = await openHfModelFolder(full);
  } catch (err) {
    throw new CheckpointError(`checkpoint ${full}: ${(err as Error).message}`, { cause: err });
  }
  let optimizer: { file: SafetensorsFile; step: number } | undefined;
  try {
    if (hasOptimizer && (options.optimizer ?? true)) optimizer = await openOptimizer(full, folder.config);
  } catch (err) {
    await folder.close();
    throw err;
  }
  // A read that fails later (a file changed under the run) still names the checkpoint.
  const named = async (read: () => Promise<Float32Array>): Promise<Float32Array> => {
    try {
      return await read();
    } catch (err) {
      throw new CheckpointError(`checkpoint ${full}: ${(err as Error).message}`, { cause: err });
    }
  };
  return {
    dir: full, config: folder.config, trainer, tokenizerFiles: paths, optimizerStep: optimizer?.step,
    readWeight: (name) => named(() => folder.readF32(name)),
    readMoment: async (label, name) => {
      if (!optimizer) throw new CheckpointError(`checkpoint ${full}: its optimizer state was not opened`);
      return named(() => optimizer.file.readF32(`${label}.${name}`));
    },
    close: async () => {
      // Both are closed even when one fails; the first failure is reported.
      const closed = await Promise.allSettled([folder.close(), optimizer?.file.close()]);
      const failed = closed.find((c) => c.status === 'rejected');
      if (failed) throw failed.reason;
    },
  };
}

/** Loads and validates a whole checkpoint into host memory (openCheckpoint reads it a tensor at a time). */
export async function readCheckpoint(dir: string, options: ReadCheckpointOptions = {}): Promise<LoadedCheckpoint> {
  const opened = await openCheckpoint(dir, options);
  try {
    const names = [...qwen3WeightShapes(opened.config).keys()];
    const weights = new Map<string, Float32Array>();
    for (const name of names) weights.set(name, await opened.readWeight(name));
    const loaded: LoadedCheckpoint = { dir: opened.dir, config: opened.config, weights, trainer: opened.trainer, tokenizerFiles: opened.tokenizerFiles };
    if (opened.optimizerStep !== undefined) {
      const m = new Map<string, Float32Array>(), v = new Map<string, Float32Array>();
      for (const name of names) {
        m.set(name, await opened.readMoment('m', name));
        v.set(name, await opened.readMoment('v', name));
      }
      loaded.optimizer = { m, v, step: opened.optimizerStep };
    }
    return loaded;
  } finally {
    await opened.close();
  }
}

// ---------------------------------------------------------------------------
// Checkpoints of a run folder: <outDir>/step-<stage>-<step, 6 digits>

const NAME = /^step-(sft|grpo)-(\d+)$/;
// The model folder writer nests its own temporary inside ours: step-x.tmp-<pid>.tmp-<pid>. The
// GRPO stage's KL reference (`reference`, a full copy of the model) is written the same way.
const INTERRUPTED = /^(step-(?:sft|grpo)-\d+|reference)\.(tmp|old)-(\d+)(?:\.(?:tmp|old)-\d+)*$/;

export function checkpointName(stage: Stage, step: number): string {
  return `step-${stage}-${String(step).padStart(6, '0')}`;
}

export interface CheckpointEntry {
  dir: string;
  stage: Stage;
  step: number;
}

/** Complete checkpoints (final names only), oldest first: SFT before GRPO, then by step. */
export async function listCheckpoints(outDir: string): Promise<CheckpointEntry[]> {
  let names: string[];
  try {
    names = await readdir(outDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const entries: CheckpointEntry[] = [];
  for (const name of names) {
    const match = NAME.exec(name);
    if (match) entries.push({ dir: join(outDir, name), stage: match[1] as Stage, step: Number(match[2]) });
  }
  return entries.sort((a, b) => checkpointRank(a.stage, a.step) - checkpointRank(b.stage, b.step));
}

/** Where a checkpoint falls in a run: SFT before GRPO, then by step (larger is newer). */
function checkpointRank(stage: Stage, step: number): number {
  return STAGES.indexOf(stage) * 2 ** 40 + step;
}

/** The newest checkpoint folder of a run, or null when there is none. */
export async function latestCheckpoint(outDir: string): Promise<string | null> {
  const all = await listCheckpoints(outDir);
  for (let i = all.length - 1; i >= 0; i--) {
    if (await pathExists(join(all[i]!.dir, STATE_FILE))) return all[i]!.dir;
  }
  return null;
}

export interface SetAside {
  folder: string;
  moved: string[];
}

/** Whether a checkpoint folder lies outside the run folder (an abandoned-* branch brought back, a copy). */
export function liesOutside(outDir: string, checkpointDir: string): boolean {
  return dirname(resolve(checkpointDir)) !== resolve(outDir);
}

/**
 * Resuming from a checkpoint that is not the run's newest branches the run: the newer checkpoints
 * in outDir belong to the abandoned branch, and left in place they would outrank the new branch's
 * (pruning would delete the new ones, `--resume latest` would jump back). They are moved, with a copy of
 * each of `copyFiles` (metrics.jsonl, which the new branch cuts back) and the paths in `move`,
 * into `<outDir>/abandoned-<resumed>-<time>`. Nothing is deleted. Returns null when nothing is newer.
 * A resumed folder outside outDir (an abandoned-* branch brought back, a copy) is another branch
 * than every checkpoint in outDir, older ones too: all of them are set aside, so that the branch
 * brought back does not prune them, and so are `move` and `copyFiles` when outDir holds no checkpoint.
 */
export async function setAsideNewerCheckpoints(
  outDir: string, resumedDir: string, o: { copyFiles?: readonly string[]; move?: readonly string[] } = {},
): Promise<SetAside | null> {
  const all = await listCheckpoints(outDir);
  const named = NAME.exec(basename(resumedDir));
  const resumedAt = named && !liesOutside(outDir, resumedDir) ? checkpointRank(named[1] as Stage, Number(named[2])) : -1;
  const newer = all.filter((e) => resolve(e.dir) !== resolve(resumedDir) && checkpointRank(e.stage, e.step) > resumedAt);
  // From another branch, outDir's metrics and reference are not the resumed run's even when
  // outDir holds no checkpoint (a run stopped before its first one): they are set aside too.
  const otherBranchFiles = resumedAt === -1 ? await existingPaths([...(o.move ?? []), ...(o.copyFiles ?? [])]) : [];
  if (newer.length === 0 && otherBranchFiles.length === 0) return null;
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const folder = join(outDir, `abandoned-${basename(resumedDir)}-${stamp}`);
  await mkdir(folder);
  const moved: string[] = [];
  for (const e of newer) {
    await rename(e.dir, join(folder, basename(e.dir)));
    moved.push(e.dir);
  }
  for (const path of o.move ?? []) {
    if (!(await pathExists(path))) continue;
    await rename(path, join(folder, basename(path)));
    moved.push(path);
  }
  for (const file of o.copyFiles ?? []) {
    if (await pathExists(file)) await copyFile(file, join(folder, basename(file)));
  }
  return { folder, moved };
}

async function existingPaths(paths: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  for (const path of paths) if (await pathExists(path)) found.push(path);
  return found;
}

function processIsAlive(pid: number): boolean {
  // This process has no checkpoint write in flight whenever it recovers (the trainer awaits each
  // write), so a leftover with its own pid is a dead writer's that happened to have the same pid
  // (containers start node as pid 1 every time).
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Cleans up after writers that died: deletes their `.tmp-<pid>` folders, and
 * puts back a `.old-<pid>` folder whose replacement never arrived (killed
 * between the two renames of an overwrite). Returns the paths removed.
 */
export async function recoverInterruptedWrites(outDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(outDir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const match = INTERRUPTED.exec(name);
    if (!match || processIsAlive(Number(match[3]))) continue;
    const path = join(outDir, name);
    const finalPath = join(outDir, match[1]!);
    if (match[2] === 'old' && !(await pathExists(finalPath))) {
      await rename(path, finalPath);
      continue;
    }
    await rm(path, { recursive: true, force: true });
    removed.push(path);
  }
  return removed;
}

/** Deletes the oldest checkpoints beyond `keep` (and dead writers' leftovers). Returns the deleted folders. */
export async function pruneCheckpoints(outDir: string, keep: number): Promise<string[]> {
  if (!Number.isInteger(keep) || keep < 1) throw new RangeError(`pruneCheckpoints: keep must be an integer >= 1, got ${keep}`);
  const removed = await recoverInterruptedWrites(outDir);
  const all = await listCheckpoints(outDir);
  for (const entry of all.slice(0, Math.max(0, all.length - keep))) {
    await rm(entry.dir, { recursive: true, force: true });
    removed.push(entry.dir);
  }
  return removed;
}
