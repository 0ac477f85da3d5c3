// node tools/export-model.js --model DIR --out DIR [--dtype f32|bf16|f16] [--max-shard-size SIZE] [--replace]
// Writes a trained judge as a Hugging Face folder to share or upload: the weights without the
// checkpoint's optimizer and trainer state, the tokenizer files, and the template it was trained with.
import { parseArgs } from 'node:util';
import { DEFAULT_MAX_SHARD_BYTES, type HfWeightDType } from '../io/hf-model.js';
import { exportModel } from '../train/export.js';
import { formatBytes, parseBytes } from '../train/memory-plan.js';
import { requiredOptions } from './options.js';

const USAGE = `usage: node tools/export-model.js --model DIR --out DIR [--dtype f32|bf16|f16] [--max-shard-size SIZE] [--replace]
  --model DIR            a train.js checkpoint (runs/NAME/step-grpo-000200) or a Qwen3 model folder
  --out DIR              the Hugging Face folder to write: config.json, the weights, the tokenizer files and,
                         from a checkpoint, judge_template.json (the template eval.js checks its prompts against)
  --dtype D              weight precision: f32 (default, as trained), bf16 or f16 (half the size, each weight rounded)
  --max-shard-size SIZE  largest weight file, e.g. 2GB (default 5GB, save_pretrained's); more is split into shards
  --replace              replace an existing --out (it stays as it was if the export fails)`;

const DTYPES: Record<string, HfWeightDType> = { f32: 'F32', bf16: 'BF16', f16: 'F16' };

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' }, out: { type: 'string' }, dtype: { type: 'string' }, 'max-shard-size': { type: 'string' },
      replace: { type: 'boolean' }, help: { type: 'boolean' },
    },
  });
  const { model, out } = requiredOptions(values, ['model', 'out'], USAGE);
  const dtypeName = values.dtype ?? 'f32';
  if (!Object.hasOwn(DTYPES, dtypeName)) throw new Error(`--dtype must be one of ${Object.keys(DTYPES).join(', ')}; got '${dtypeName}'`);
  const dtype = DTYPES[dtypeName]!;
  let maxShardBytes = DEFAULT_MAX_SHARD_BYTES;
  if (values['max-shard-size'] !== undefined) {
    try {
      maxShardBytes = parseBytes(values['max-shard-size']);
    } catch (err) {
      throw new Error(`--max-shard-size: ${(err as Error).message}`);
    }
    if (!(maxShardBytes >= 1 && Number.isSafeInteger(maxShardBytes))) throw new Error(`--max-shard-size must be at least 1 byte; got '${values['max-shard-size']}'`);
  }
  const tty = process.stderr.isTTY;
  const summary = await exportModel(model, out, {
    dtype, maxShardBytes, replace: values.replace ?? false,
    onTensor: tty ? (name, done, total) => process.stderr.write(`\r\x1b[K[${done}/${total}] ${name}`) : undefined,
  });
  if (tty) process.stderr.write('\r\x1b[K');
  const shards = summary.files.filter((f) => f.endsWith('.safetensors')).length;
  process.stdout.write(
    `wrote ${summary.dir}: ${summary.tensors} tensors, ${formatBytes(summary.weightBytes)} of ${dtypeName} weights in ${shards} file(s)\n` +
      `tokenizer files: ${summary.tokenizerFiles.length > 0 ? summary.tokenizerFiles.join(', ') : 'none found (eval.js and generate.js need tokenizer.json beside the weights)'}\n` +
      (summary.template
        ? `template: ${summary.template.chat ? 'chat template' : 'raw tagged text'}, thinking ${summary.template.thinking ? 'on' : 'off'}, ` +
          `${summary.template.rubricsFile ? `rubrics ${summary.template.rubricsFile}` : "the paper's primary rubrics"} (judge_template.json)\n`
        : 'template: not recorded (not a train.js checkpoint with its run\'s config.yaml)\n'),
  );
}

main().catch((err: unknown) => {
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K'); // the progress line
  process.stderr.write(`export-model: ${(err as Error).message}\n`);
  process.exit(1);
});
