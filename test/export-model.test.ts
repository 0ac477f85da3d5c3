// Exporting a trained judge (train/export.ts, tools/export-model.js): the weights without the
// checkpoint's optimizer and trainer state, in the precision and shards asked for, with the
// tokenizer files and the prompt template, which eval's template check then reads.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { bf16ToF32, f32ToBf16 } from '../src/io/dtype.js';
import { openHfModelFolder, qwen3WeightShapes, type Qwen3Config } from '../src/io/hf-model.js';
import { checkpointName, writeCheckpoint, type TrainerState } from '../src/train/checkpoint.js';
import { exportModel, JUDGE_TEMPLATE_FILE } from '../src/train/export.js';
import { trainedTemplateWarnings } from '../src/eval/trained-template.js';
import { sineWeights } from './host-weights.js';

const dir = mkdtempSync(join(tmpdir(), 'patarm-export-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TINY: Qwen3Config = {
  vocabSize: 32, hiddenSize: 8, intermediateSize: 16, numLayers: 2, numHeads: 2, numKvHeads: 1, headDim: 4,
  rmsNormEps: 1e-6, ropeTheta: 10000, maxPositionEmbeddings: 64, tieWordEmbeddings: true, torchDtype: 'float32',
};

const weightsOf = (cfg: Qwen3Config, offset: number) => sineWeights(cfg, offset, 0.37);

const trainer: TrainerState = {
  stage: 'grpo', step: 2, epoch: 0, dataPosition: 16, sampler: null, rng: { seed: 1, draws: 4 }, configHash: 'abc', metricsRows: 2,
};

/** A run folder as train.js leaves it: config.yaml with the template, and one checkpoint. */
async function trainedRun(name: string, template: Record<string, unknown>, rubricsText?: string): Promise<{ ckpt: string; weights: Map<string, Float32Array>; rubrics?: string }> {
  const run = join(dir, name);
  mkdirSync(run, { recursive: true });
  const tokenizer = join(run, 'tokenizer.json');
  writeFileSync(tokenizer, '{"model":{"type":"BPE"}}');
  let rubrics: string | undefined;
  if (rubricsText !== undefined) {
    rubrics = join(run, 'my-rubrics.yaml');
    writeFileSync(rubrics, rubricsText);
  }
  writeFileSync(join(run, 'config.yaml'), stringify({ name, template: { ...template, ...(rubrics ? { rubricsFile: rubrics } : {}) } }));
  const weights = weightsOf(TINY, 5);
  const ckpt = join(run, checkpointName('grpo', 2));
  await writeCheckpoint(ckpt, { config: TINY, weights, optimizer: { m: weightsOf(TINY, 100), v: weightsOf(TINY, 200), step: 2 }, trainer, tokenizerFiles: [tokenizer] });
  return { ckpt, weights, ...(rubrics ? { rubrics } : {}) };
}

describe('exportModel', () => {
  it('writes a checkpoint\'s judge as bf16 shards with its tokenizer and template, and no optimizer or trainer state', async () => {
    const { ckpt, weights, rubrics } = await trainedRun('run-a', { chat: true, thinking: false }, 'chat: Judge the letter.\n');
    const out = join(dir, 'exported-a');
    const names: string[] = [];
    const summary = await exportModel(ckpt, out, { dtype: 'BF16', maxShardBytes: 300, onTensor: (name) => names.push(name) });
    const shapes = qwen3WeightShapes(TINY);
    expect(names).toEqual([...shapes.keys()]);
    const files = readdirSync(out).sort();
    expect(summary.files).toEqual(files);
    expect(files).not.toContain('optimizer.safetensors');
    expect(files).not.toContain('trainer_state.json');
    expect(files).not.toContain('model.safetensors');
    expect(files.filter((f) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(f)).length).toBeGreaterThan(1);
    expect(files).toEqual(expect.arrayContaining(['config.json', 'model.safetensors.index.json', 'tokenizer.json', JUDGE_TEMPLATE_FILE, 'judge_rubrics.yaml']));
    expect(summary.weightBytes).toBe([...shapes.values()].reduce((sum, s) => sum + s.reduce((a, b) => a * b, 1) * 2, 0));
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).torch_dtype).toBe('bfloat16');
    expect(readFileSync(join(out, 'judge_rubrics.yaml'), 'utf8')).toBe(readFileSync(rubrics!, 'utf8'));
    expect(JSON.parse(readFileSync(join(out, JUDGE_TEMPLATE_FILE), 'utf8'))).toEqual({ chat: true, thinking: false, rubricsFile: 'judge_rubrics.yaml' });
    // Each weight is the checkpoint's rounded to bf16 (nearest, ties to even), nothing else.
    const model = await openHfModelFolder(out);
    try {
      for (const [name, want] of weights) {
        const got = await model.readF32(name);
        const rounded = bf16ToF32(f32ToBf16(want));
        if (!got.every((v, i) => v === rounded[i])) expect.fail(`${name} is not the bf16 rounding of the checkpoint's`);
      }
    } finally {
      await model.close();
    }
    // eval.js reads the template from the exported folder: the training template passes, another is named.
    expect(trainedTemplateWarnings(out, { chatTemplate: true, thinking: false, rubrics: rubrics! })).toEqual([]);
    const warnings = trainedTemplateWarnings(out, { chatTemplate: false, thinking: false });
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/was trained \(.*judge_template\.json\) on the chat template, and this evaluation renders raw tagged text: add --chat-template/);
    expect(warnings[1]).toContain(`pass --rubrics ${join(out, 'judge_rubrics.yaml')}`);
  });

  it('exports a plain model folder in f32 bit for bit, with no template to record', async () => {
    const src = resolve('test/fixtures/qwen3-tiny/model');
    const out = join(dir, 'exported-plain');
    const summary = await exportModel(src, out, { dtype: 'F32' });
    expect(summary.template).toBeNull();
    expect(existsSync(join(out, JUDGE_TEMPLATE_FILE))).toBe(false);
    expect(readdirSync(out).filter((f) => f.endsWith('.safetensors'))).toEqual(['model.safetensors']);
    const [a, b] = [await openHfModelFolder(src), await openHfModelFolder(out)];
    try {
      expect(b.config).toEqual(a.config);
      for (const name of a.tensorNames) expect(await b.readF32(name)).toEqual(await a.readF32(name));
    } finally {
      await a.close();
      await b.close();
    }
    expect(trainedTemplateWarnings(out, { chatTemplate: true, thinking: true })).toEqual([]);
  });

  it('refuses an output inside the model folder, or around it, or that exists, and a missing rubrics file, writing nothing', async () => {
    const { ckpt } = await trainedRun('run-b', { chat: false, thinking: false });
    await expect(exportModel(ckpt, join(ckpt, 'inside'), { dtype: 'F32' })).rejects.toThrow(/is the model folder or inside it/);
    await expect(exportModel(ckpt, join(dir, 'run-b'), { dtype: 'F32' })).rejects.toThrow(/contains the model folder/);
    // The same through a symbolic link: --replace would have deleted the run.
    symlinkSync(join(dir, 'run-b'), join(dir, 'link-to-run-b'));
    await expect(exportModel(join(dir, 'link-to-run-b', checkpointName('grpo', 2)), join(dir, 'run-b'), { dtype: 'F32', replace: true })).rejects.toThrow(/contains the model folder/);
    await expect(exportModel(ckpt, join(dir, 'link-to-run-b', checkpointName('grpo', 2), 'inside'), { dtype: 'F32' })).rejects.toThrow(/is the model folder or inside it/);
    expect(existsSync(ckpt)).toBe(true);
    const taken = join(dir, 'taken');
    mkdirSync(taken);
    writeFileSync(join(taken, 'keep.txt'), 'mine');
    await expect(exportModel(ckpt, taken, { dtype: 'F32' })).rejects.toThrow(/exists and is not empty \(replace it with --replace\)/);
    expect(readdirSync(taken)).toEqual(['keep.txt']);
    await exportModel(ckpt, taken, { dtype: 'F32', replace: true });
    expect(readdirSync(taken)).not.toContain('keep.txt');
    expect(JSON.parse(readFileSync(join(taken, JUDGE_TEMPLATE_FILE), 'utf8'))).toEqual({ chat: false, thinking: false, rubricsFile: null });

    const { ckpt: withRubrics, rubrics } = await trainedRun('run-c', { chat: false, thinking: false }, 'chat: x\n');
    rmSync(rubrics!);
    const out = join(dir, 'never');
    await expect(exportModel(withRubrics, out, { dtype: 'F32' })).rejects.toThrow(/trained with the rubrics of .*my-rubrics\.yaml .*which is not found from .*: run the export from the folder training ran in/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.startsWith('never'))).toEqual([]);
  });

  it('keeps a rubrics file without an extension as YAML, as training read it', async () => {
    const run = join(dir, 'run-noext');
    const { ckpt } = await trainedRun('run-noext', { chat: false, thinking: false });
    const rubrics = join(run, 'rubrics');
    writeFileSync(rubrics, 'chat: Judge the letter.\n');
    writeFileSync(join(run, 'config.yaml'), stringify({ name: 'run-noext', template: { chat: false, thinking: false, rubricsFile: rubrics } }));
    const out = join(dir, 'exported-noext');
    await exportModel(ckpt, out, { dtype: 'F32' });
    expect(readFileSync(join(out, 'judge_rubrics.yaml'), 'utf8')).toBe('chat: Judge the letter.\n');
    expect(trainedTemplateWarnings(out, { chatTemplate: false, thinking: false, rubrics })).toEqual([]);
  });

  it('a broken judge_template.json is a warning naming it, not a crash of eval', async () => {
    const out = join(dir, 'exported-broken');
    await exportModel(resolve('test/fixtures/qwen3-tiny/model'), out, { dtype: 'F32' });
    writeFileSync(join(out, JUDGE_TEMPLATE_FILE), '{"chat": "yes"}');
    expect(trainedTemplateWarnings(out, { chatTemplate: false, thinking: false })).toEqual([
      expect.stringMatching(/judge_template\.json does not hold a judge template: .*so whether this evaluation renders prompts as training did is not checked$/),
    ]);
    writeFileSync(join(out, JUDGE_TEMPLATE_FILE), '{"chat": true, "thinking": false, "rubricsFile": "../elsewhere.json"}');
    expect(trainedTemplateWarnings(out, { chatTemplate: true, thinking: false })[0]).toMatch(/rubricsFile "\.\.\/elsewhere\.json" is not a file of the folder/);
  });
});

describe('tools/export-model.js', () => {
  const cli = (args: string[]) => spawnSync(process.execPath, ['tools/export-model.js', ...args], { encoding: 'utf8', timeout: 60_000 });

  it('exports and says what it wrote; bad options are one line each', async () => {
    const { ckpt } = await trainedRun('run-cli', { chat: true, thinking: true });
    const out = join(dir, 'cli-out');
    const ok = cli(['--model', ckpt, '--out', out, '--dtype', 'f16', '--max-shard-size', '1KB']);
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    const firstLine = ok.stdout.split('\n')[0]!;
    expect(firstLine.startsWith(`wrote ${out}: ${qwen3WeightShapes(TINY).size} tensors, `)).toBe(true);
    expect(firstLine).toMatch(/ of f16 weights in ([2-9]|\d\d+) file\(s\)$/);
    expect(ok.stdout).toContain('tokenizer files: tokenizer.json\n');
    expect(ok.stdout).toContain("template: chat template, thinking on, the paper's primary rubrics (judge_template.json)\n");
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).torch_dtype).toBe('float16');
    for (const [args, message] of [
      [['--model', ckpt, '--out', join(dir, 'x'), '--dtype', 'fp8'], "export-model: --dtype must be one of f32, bf16, f16; got 'fp8'\n"],
      [['--model', ckpt, '--out', join(dir, 'x'), '--max-shard-size', 'lots'], /^export-model: --max-shard-size: invalid byte size 'lots'/],
      [['--model', ckpt, '--out', out], /^export-model: exporting .*: the output .* exists and is not empty \(replace it with --replace\)\n$/],
    ] as const) {
      const r = cli([...args]);
      expect(r.status).toBe(1);
      if (typeof message === 'string') expect(r.stderr).toBe(message);
      else expect(r.stderr).toMatch(message);
    }
    expect(cli(['--model', ckpt]).status).toBe(2);
  });
});
