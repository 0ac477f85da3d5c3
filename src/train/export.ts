// Exporting a judge to share it: the model part of a train.js checkpoint (or of any Qwen3 model
// folder) as a Hugging Face folder, without the optimizer state and trainer state a checkpoint
// also holds (twice the weights again), in the precision and file sizes asked for, with the
// tokenizer files and, from a checkpoint, the prompt template it was trained with
// (judge_template.json), which eval.js then checks its own rendering against.
import { copyFile, readdir } from 'node:fs/promises';
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';
import YAML from 'yaml';
import { pathExists, writeFileAtomically, writeFolderAtomically } from '../io/atomic.js';
import { bytesPerElement } from '../io/dtype.js';
import { isWeightFileName, openHfModelFolder, qwen3WeightShapes, writeHfModelFiles, type HfWeightDType } from '../io/hf-model.js';
import { numElements } from '../io/safetensors.js';
import { STATE_FILE } from './checkpoint.js';
import { CONFIG_FILE } from './config.js';

/** The prompt template an exported judge was trained with, beside its weights. */
export const JUDGE_TEMPLATE_FILE = 'judge_template.json';

/**
 * Files of a Hugging Face tokenizer (and its generation defaults) copied with the weights when
 * present: what transformers' AutoTokenizer and our loadTokenizer read.
 */
export const TOKENIZER_FILE_NAMES = [
  'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'added_tokens.json', 'vocab.json', 'merges.txt',
  'chat_template.jinja', 'generation_config.json',
] as const;

export interface JudgeTemplate {
  /** Prompts wrapped in Qwen3's chat template (train config template.chat); false: raw tagged text. */
  chat: boolean;
  /** Qwen3 thinking (template.thinking). */
  thinking: boolean;
  /** The task rubrics the prompts were rendered with, a file inside the exported folder; null: the paper's primary rubrics. */
  rubricsFile: string | null;
}

export class ExportError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ExportError';
  }
}

export interface ExportOptions {
  dtype: HfWeightDType;
  /** Largest weight file (HfWriteOptions.maxShardBytes). */
  maxShardBytes?: number;
  /** Replace an existing `to` (atomically: it stays as it was if the export fails). Default false. */
  replace?: boolean;
  /** Called once per tensor written, with its name. */
  onTensor?: (name: string, done: number, total: number) => void;
}

export interface ExportSummary {
  dir: string;
  tensors: number;
  /** Bytes of weight data written. */
  weightBytes: number;
  /** The folder's files, sorted. */
  files: string[];
  tokenizerFiles: string[];
  /** The template written to judge_template.json; null when `from` is not a train.js checkpoint. */
  template: JudgeTemplate | null;
}

/** The template a train.js run rendered its prompts with, from its config.yaml. */
export interface RunTemplate {
  /** The run's config.yaml. */
  configFile: string;
  chat: boolean;
  thinking: boolean;
  /** template.rubricsFile as written (relative to where training ran), or null: the primary rubrics. */
  rubricsFile: string | null;
}

/**
 * The template of the train.js run that `checkpointDir` is a checkpoint of (its config.yaml one
 * folder up); null when it is not one, or the run's config.yaml is not beside it. A config.yaml
 * that does not say the template throws, naming it.
 */
export function readRunTemplate(checkpointDir: string): RunTemplate | null {
  const configFile = join(dirname(resolve(checkpointDir)), CONFIG_FILE);
  if (!existsSync(join(checkpointDir, STATE_FILE)) || !existsSync(configFile)) return null;
  let parsed: unknown;
  try {
    parsed = YAML.parse(readFileSync(configFile, 'utf8'));
  } catch (err) {
    throw new ExportError(`${configFile} cannot be read (${(err as Error).message})`, { cause: err });
  }
  const t = (parsed as { template?: unknown } | null)?.template;
  if (typeof t !== 'object' || t === null) throw new ExportError(`${configFile} has no template section`);
  const { chat, thinking, rubricsFile } = t as Record<string, unknown>;
  if (rubricsFile !== undefined && typeof rubricsFile !== 'string') throw new ExportError(`${configFile}: template.rubricsFile is not a path`);
  return { configFile, chat: chat === true, thinking: thinking === true, rubricsFile: rubricsFile ?? null };
}

/**
 * Writes the model of `from` (a train.js checkpoint or a Qwen3 model folder) to the folder `to`:
 * config.json and the weights in `dtype` (sharded past maxShardBytes), the tokenizer files found
 * in `from`, and judge_template.json with a copy of the rubrics when `from` is a checkpoint.
 * Weights are read one tensor at a time. The folder is built aside and renamed into place, so a
 * failed export leaves nothing half-written.
 */
export async function exportModel(from: string, to: string, o: ExportOptions): Promise<ExportSummary> {
  const src = resolve(from), dst = resolve(to);
  if (!existsSync(src)) throw new ExportError(`exporting ${src}: no such folder`);
  // Compared as the disk resolves them (symbolic links followed), since replacing the output deletes it.
  const [realSrc, realDst] = [realpathSync(src), realPathOfNew(dst)];
  if (realDst === realSrc || realDst.startsWith(realSrc + sep)) throw new ExportError(`exporting ${src}: the output ${dst} is the model folder or inside it`);
  if (realSrc.startsWith(realDst + sep)) throw new ExportError(`exporting ${src}: the output ${dst} contains the model folder, which replacing it would delete`);
  if (await pathExists(dst)) {
    if (!statSync(dst).isDirectory()) throw new ExportError(`exporting ${src}: the output ${dst} is a file`);
    if ((await readdir(dst)).length > 0 && !o.replace) throw new ExportError(`exporting ${src}: the output ${dst} exists and is not empty (replace it with --replace)`);
  }
  let training: RunTemplate | null;
  try {
    training = readRunTemplate(src);
  } catch (err) {
    throw new ExportError(`exporting ${src}: ${(err as Error).message}, so the template the judge was trained with is unknown`, { cause: err });
  }
  let rubricsSource: string | null = null;
  if (training?.rubricsFile) {
    rubricsSource = resolve(training.rubricsFile);
    if (!existsSync(rubricsSource)) {
      throw new ExportError(
        `exporting ${src}: it was trained with the rubrics of ${training.rubricsFile} (${training.configFile}), which is not found from ${process.cwd()}: ` +
          'run the export from the folder training ran in',
      );
    }
  }
  const names = await readdir(src);
  const tokenizerFiles = TOKENIZER_FILE_NAMES.filter((name) => names.includes(name));
  const model = await openHfModelFolder(src);
  try {
    const shapes = qwen3WeightShapes(model.config);
    let done = 0;
    const weights = new Map(model.tensorNames.map((name) => [name, async () => {
      const values = await model.readF32(name);
      o.onTensor?.(name, ++done, model.tensorNames.length);
      return values;
    }]));
    let template: JudgeTemplate | null = null;
    await writeFolderAtomically(dst, async (tmp) => {
      await writeHfModelFiles(tmp, model.config, weights, { dtype: o.dtype, maxShardBytes: o.maxShardBytes }, dst);
      for (const name of tokenizerFiles) await copyFile(join(src, name), join(tmp, name));
      if (training) {
        // Kept as training read it: loadRubricFile reads .json as JSON and anything else as YAML.
        const rubricsFile = rubricsSource ? `judge_rubrics${extname(rubricsSource).toLowerCase() === '.json' ? '.json' : '.yaml'}` : null;
        if (rubricsSource && rubricsFile) await copyFile(rubricsSource, join(tmp, rubricsFile));
        template = { chat: training.chat, thinking: training.thinking, rubricsFile };
        await writeFileAtomically(join(tmp, JUDGE_TEMPLATE_FILE), [new TextEncoder().encode(`${JSON.stringify(template, null, 2)}\n`)]);
      }
    });
    const weightBytes = [...shapes.values()].reduce((sum, shape) => sum + numElements(shape) * bytesPerElement(o.dtype), 0);
    return { dir: dst, tensors: model.tensorNames.length, weightBytes, files: (await readdir(dst)).sort(), tokenizerFiles: [...tokenizerFiles], template };
  } finally {
    await model.close();
  }
}

/** `path` with symbolic links resolved, for a path that may not exist yet: its nearest existing ancestor resolved. */
function realPathOfNew(path: string): string {
  if (existsSync(path)) return realpathSync(path);
  const parent = dirname(path);
  return parent === path ? path : join(realPathOfNew(parent), basename(path));
}

/**
 * The judge_template.json of an exported judge in `dir`, with its rubricsFile made a path; null
 * when there is none. A file that does not hold a template is an error naming it.
 */
export function readJudgeTemplateSync(dir: string): JudgeTemplate | null {
  const path = join(dir, JUDGE_TEMPLATE_FILE);
  if (!existsSync(path)) return null;
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ExportError(`${path} is not valid JSON (${(err as Error).message})`, { cause: err });
  }
  const t = value as Partial<JudgeTemplate> | null;
  const rubrics = t?.rubricsFile;
  if (typeof t !== 'object' || t === null || typeof t.chat !== 'boolean' || typeof t.thinking !== 'boolean' || (rubrics !== null && typeof rubrics !== 'string')) {
    throw new ExportError(`${path} does not hold a judge template: expected {"chat": boolean, "thinking": boolean, "rubricsFile": string | null}`);
  }
  if (typeof rubrics === 'string' && (rubrics === '' || isWeightFileName(rubrics) || relative(dir, resolve(dir, rubrics)).startsWith('..'))) {
    throw new ExportError(`${path}: rubricsFile ${JSON.stringify(rubrics)} is not a file of the folder`);
  }
  return { chat: t.chat, thinking: t.thinking, rubricsFile: typeof rubrics === 'string' ? resolve(dir, rubrics) : null };
}

