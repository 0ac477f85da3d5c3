import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { parseQwen3Config } from '../src/io/hf-model.js';
import {
  ConfigError,
  acceptedConfigHashes,
  changedTrainingSettings,
  configHash,
  evalLayout,
  defaultTrainConfig,
  describeConfig,
  loadModelConfig,
  loadTrainConfig,
  parseOverrideArgs,
  type TrainConfig,
} from '../src/train/config.js';
import { paramCount } from '../src/train/memory-plan.js';

const dir = mkdtempSync(join(tmpdir(), 'patarm-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const sftData = file('sft.jsonl', '{"prompt":"p","chosen":"a","rejected":"b"}\n');
const grpoData = file('grpo.jsonl', '{"prompt":"p","chosen":"a","rejected":"b"}\n');
const tokenizerFile = file('tokenizer.json', '{"model":{}}');
const modelDir = join(dir, 'model');
mkdirSync(modelDir);
writeFileSync(join(modelDir, 'config.json'), readFileSync('models/qwen3-0.6b.json'));
writeFileSync(join(modelDir, 'tokenizer.json'), '{"model":{}}');

/** Overrides that make a valid config from defaults alone. */
const VALID = ['--model.path', modelDir, '--data.sft', sftData, '--data.grpo', grpoData];

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).problems];
  }
  throw new Error('expected a ConfigError');
}

describe('loadTrainConfig: defaults and overrides', () => {
  it('fills every default of the brief and derives name, outDir and tokenizer', () => {
    const cfg = loadTrainConfig(null, VALID);
    const expected = defaultTrainConfig();
    expect(cfg.sft).toEqual(expected.sft);
    expect(cfg.grpo).toEqual(expected.grpo);
    expect(cfg.seed).toBe(0);
    expect(cfg.stages).toEqual(['sft', 'grpo']);
    expect(cfg.name).toBe('run');
    expect(cfg.outDir).toBe('runs/run');
    expect(cfg.tokenizer).toBe(modelDir);
    expect(cfg.model).toEqual({ path: modelDir, dtype: 'f32', gradientCheckpointing: false });
    expect(cfg.data).toEqual({ sft: sftData, grpo: grpoData, format: 'auto', onBadRow: 'error', layout: { sft: 'pairs', grpo: 'pairs' }, fields: {} });
    expect(cfg.template).toEqual({ chat: false, thinking: false });
    expect(cfg.checkpoint).toEqual({ every: 100, keep: 2, maxShardBytes: 5e9 });
    // A limit no byte count can be compared with exactly is refused when the config loads, not at the first checkpoint.
    expect(problemsOf(() => loadTrainConfig(null, [...VALID, '--checkpoint.maxShardBytes', '1e20']))).toEqual([
      `checkpoint.maxShardBytes: must be >= 1 and <= ${Number.MAX_SAFE_INTEGER}, got 100000000000000000000`,
    ]);
    expect(cfg.log).toEqual({ every: 1 });
    expect(cfg.eval).toEqual({});
    // Spot-check the numbers themselves, not only that defaults round-trip.
    expect([cfg.sft.lr, cfg.sft.minLr, cfg.sft.schedule, cfg.sft.batchRows, cfg.sft.microBatchRows]).toEqual([1.5e-6, 1.5e-7, 'cosine', 16, 4]);
    expect([cfg.grpo.lr, cfg.grpo.batchPairs, cfg.grpo.rollouts, cfg.grpo.clipEps, cfg.grpo.klCoef, cfg.grpo.maxNewTokens]).toEqual([5e-7, 8, 16, 0.2, 0.001, 4096]);
    expect(cfg.grpo.reward).toEqual({ f: 'graded', threshold: 2, high: 1.0, low: 0.5, formatPenalty: -1 });
    expect(cfg.sft.betas).toEqual([0.9, 0.999]);
  });

  it('reads YAML, then applies dotted command-line overrides with typed values', () => {
    const path = file('my-run.yaml', `seed: 7\nmodel:\n  path: ${modelDir}\ndata:\n  sft: ${sftData}\n  grpo: ${grpoData}\ngrpo:\n  lr: 1.0e-6\n  rollouts: 8\n`);
    const cfg = loadTrainConfig(path, [
      '--grpo.lr', '2e-6',
      '--template.chat',
      '--grpo.reward.f=constant',
      '--sft.betas', '[0.9, 0.95]',
      '--grpo.normalizeStd', 'false',
      '--grpo.skipUniformGroups',
      '--grpo.reward.formatPenalty', '-0.5',
    ]);
    expect(cfg.seed).toBe(7);
    expect(cfg.grpo.lr).toBe(2e-6);
    expect(cfg.grpo.rollouts).toBe(8);
    expect(cfg.template.chat).toBe(true);
    expect(cfg.grpo.reward.f).toBe('constant');
    expect(cfg.sft.betas).toEqual([0.9, 0.95]);
    expect(cfg.grpo.normalizeStd).toBe(false);
    expect(cfg.grpo.skipUniformGroups).toBe(true);
    expect(cfg.grpo.reward.formatPenalty).toBe(-0.5);
    expect(cfg.name).toBe('my-run');
    expect(cfg.outDir).toBe('runs/my-run');
  });

  it("sets each stage's file layout and the field names on the command line, and refuses names no layout reads", () => {
    const cfg = loadTrainConfig(null, [...VALID, '--data.layout.grpo', 'row-pairs', '--data.fields.response', 'output', '--data.fields.prompt', 'question']);
    expect(cfg.data.layout).toEqual({ sft: 'pairs', grpo: 'row-pairs' });
    expect(cfg.data.fields).toEqual({ response: 'output', prompt: 'question' });
    expect(problemsOf(() => loadTrainConfig(null, [...VALID, '--data.layout.grpo', 'rows']))).toEqual([
      "data.layout.grpo: must be one of 'pairs', 'row-pairs', got 'rows'",
    ]);
    expect(problemsOf(() => loadTrainConfig(null, [...VALID, '--data.fields.judgment', 'critique', '--data.fields.id', ' ', '--data.fields.response', 'output']))).toEqual([
      'data.fields.judgment: the teacher judgments of SFT rows: only read with data.layout.sft row-pairs',
      'data.fields.id: a field name cannot be blank',
      'data.fields.response: only read with data.layout row-pairs, which neither stage has',
    ]);
    // Judgments are SFT's: a row-pairs GRPO file does not read them.
    expect(problemsOf(() => loadTrainConfig(null, [...VALID, '--data.layout.grpo', 'row-pairs', '--data.fields.judgment', 'critique']))).toEqual([
      'data.fields.judgment: the teacher judgments of SFT rows: only read with data.layout.sft row-pairs',
    ]);
    const rowsOnly = ['--data.layout.sft', 'row-pairs', '--data.layout.grpo', 'row-pairs'];
    expect(problemsOf(() => loadTrainConfig(null, [...VALID, ...rowsOnly, '--data.fields.chosen', 'better']))).toEqual([
      'data.fields.chosen: only read with data.layout pairs, which neither stage has',
    ]);
    // data.eval's layout counts once there is a data.eval (GRPO's unless data.layout.eval says), and trains nothing.
    const withEval = [...VALID, ...rowsOnly, '--data.eval', grpoData, '--eval.every', '5'];
    expect(evalLayout(loadTrainConfig(null, withEval))).toBe('row-pairs');
    expect(problemsOf(() => loadTrainConfig(null, [...withEval, '--data.fields.chosen', 'better']))).toEqual([
      'data.fields.chosen: only read with data.layout pairs, which neither stage nor data.eval has',
    ]);
    const pairsEval = loadTrainConfig(null, [...withEval, '--data.layout.eval', 'pairs', '--data.fields.chosen', 'better']);
    expect([evalLayout(pairsEval), pairsEval.data.fields]).toEqual(['pairs', { chosen: 'better' }]);
    expect(configHash(loadTrainConfig(null, [...withEval, '--data.layout.eval', 'pairs']))).toBe(configHash(loadTrainConfig(null, withEval)));
    // Checked against the layouts, not the stages run: a saved config still loads with --stages narrowed.
    const narrowed = loadTrainConfig(null, [...VALID, '--stages', 'grpo', '--data.layout.sft', 'row-pairs', '--data.fields.judgment', 'critique']);
    expect(narrowed.data.fields).toEqual({ judgment: 'critique' });
  });

  it('refuses a key given twice on the command line, in either form', () => {
    const path = file('twice.yaml', `model:\n  path: ${modelDir}\ndata:\n  sft: ${sftData}\n  grpo: ${grpoData}\n`);
    expect(() => loadTrainConfig(path, ['--grpo.lr', '2e-6', '--grpo.lr=3e-6'])).toThrow(/command line: --grpo\.lr is given more than once/);
  });

  it('keeps string keys as text even when they look like numbers, and moves outDir with --name', () => {
    const cfg = loadTrainConfig(null, [...VALID, '--name', '42', '--stages', 'sft']);
    expect(cfg.name).toBe('42');
    expect(cfg.outDir).toBe('runs/42');
    expect(cfg.stages).toEqual(['sft']);
  });

  it('null on the command line unsets an optional key', () => {
    const path = file('steps.yaml', `grpo:\n  steps: 10\n`);
    expect(loadTrainConfig(path, VALID).grpo.steps).toBe(10);
    expect(loadTrainConfig(path, [...VALID, '--grpo.steps', 'null']).grpo.steps).toBeUndefined();
  });

  it('reads JSON configs too', () => {
    const path = file('run.json', JSON.stringify({ model: { path: modelDir }, data: { sft: sftData, grpo: grpoData }, sft: { epochs: 3 } }));
    expect(loadTrainConfig(path, []).sft.epochs).toBe(3);
  });

  it('refuses a JSON config with a key twice in one object, as YAML does (JSON.parse kept the last)', () => {
    const base = `"model": {"path": ${JSON.stringify(modelDir)}}, "data": {"sft": ${JSON.stringify(sftData)}, "grpo": ${JSON.stringify(grpoData)}}`;
    const twice = file('twice.json', `{${base},\n "grpo": {"rollouts": 4},\n "grpo": {"lr": 1e-6}}`);
    expect(() => loadTrainConfig(twice, [])).toThrow(/twice\.json[\s\S]*key "grpo" appears twice in one object \(line 3, column 2\)/);
    const inner = file('inner-twice.json', `{${base}, "grpo": {"lr": 1e-6, "lr": 1e-3}}`);
    expect(() => loadTrainConfig(inner, [])).toThrow(/key "lr" appears twice/);
    // equal keys in different objects are fine
    expect(loadTrainConfig(file('apart.json', `{${base}, "sft": {"lr": 1e-5}, "grpo": {"lr": 1e-6}}`), []).grpo.lr).toBe(1e-6);
  });

  it('parses --key value, --key=value and bare flags', () => {
    expect(parseOverrideArgs(['--a.b', '1', '--c=x=y', '--flag', '--d', '-1'])).toEqual([
      { key: 'a.b', text: '1' },
      { key: 'c', text: 'x=y' },
      { key: 'flag', text: 'true' },
      { key: 'd', text: '-1' },
    ]);
  });

  it('refuses a key that is not true/false given no value, rather than taking it for true', () => {
    // `--outDir --quiet` trained into a folder named true; `--model.path --dry-run` looked for a model folder named true.
    expect(problemsOf(() => loadTrainConfig(null, [...VALID, '--outDir']))).toEqual(['command line: --outDir needs a value']);
    expect(problemsOf(() => loadTrainConfig(null, ['--model.path', '--data.sft', sftData, '--data.grpo', grpoData])))
      .toContain('command line: --model.path needs a value, got the option --data.sft after it');
    expect(problemsOf(() => loadTrainConfig(null, [...VALID, '--name', '--seed', '3', '--grpo.steps=']))).toEqual([
      'command line: --name needs a value, got the option --seed after it',
      'command line: --grpo.steps needs a value',
    ]);
    // A true/false key may still be given bare, and --key=value takes a value that starts with --.
    const bare = loadTrainConfig(null, [...VALID, '--model.gradientCheckpointing', '--template.chat', '--name=--odd']);
    expect([bare.model.gradientCheckpointing, bare.template.chat, bare.name]).toEqual([true, true, '--odd']);
  });
});

describe('loadTrainConfig: every problem at once, with its key path', () => {
  it('lists unknown keys with suggestions, type and range errors and missing files together', () => {
    const path = file(
      'bad.yaml',
      [
        'model:',
        `  path: ${modelDir}`,
        'data:',
        `  sft: ${join(dir, 'nope.jsonl')}`,
        `  grpo: ${grpoData}`,
        'sft:',
        '  lr: abc',
        '  rollouts: 4',
        'grpo:',
        '  lrr: 1.0e-6',
        '  batchPairs: 2.5',
        '  batchRows: 16',
        '  clipEps: 1.5',
        '  topP: 0',
        'stages: [grpo, sft]',
      ].join('\n'),
    );
    const problems = problemsOf(() => loadTrainConfig(path, ['--checkpoint.evry', '5']));
    expect(problems).toEqual(
      expect.arrayContaining([
        "unknown key 'grpo.lrr' (did you mean 'grpo.lr'?)",
        "unknown key 'sft.rollouts' (did you mean 'grpo.rollouts'?)",
        "unknown key 'grpo.batchRows': GRPO batches are counted in pairs: use 'grpo.batchPairs' (rows = 2 * batchPairs)",
        "unknown key 'checkpoint.evry' (did you mean 'checkpoint.every'?) (command line --checkpoint.evry)",
        "sft.lr: must be a number, got 'abc'",
        'grpo.batchPairs: must be an integer, got 2.5',
        'grpo.clipEps: must be > 0 and < 1, got 1.5',
        'grpo.topP: must be > 0 and <= 1, got 0',
        'stages: must run sft before grpo, got ["grpo","sft"]',
        `data.sft: no such file or folder: ${join(dir, 'nope.jsonl')}`,
      ]),
    );
    expect(problems).toHaveLength(10);
  });

  it('puts every problem in the message, under the config source', () => {
    try {
      loadTrainConfig(null, [...VALID, '--grpo.lr', 'fast', '--seed', '-1']);
      throw new Error('expected a ConfigError');
    } catch (err) {
      const message = (err as Error).message;
      expect(message).toContain('invalid training config (defaults and command line)');
      expect(message).toContain("  - grpo.lr: must be a number, got 'fast'");
      expect(message).toContain('  - seed: must be >= 0 and <= 4294967295, got -1');
    }
  });

  it('checks relations between keys', () => {
    const problems = problemsOf(() =>
      loadTrainConfig(null, [
        '--model.path', modelDir, '--model.init', 'random',
        '--stages', 'sft,grpo', '--data.sft', sftData,
        '--sft.batchRows', '7', '--sft.microBatchRows', '8',
        '--sft.minLr', '1e-3',
        '--grpo.reward.low', '2',
        '--grpo.batchPairs', '2', '--grpo.rollouts', '4', '--grpo.generationRows', '17',
        '--eval.every', '10', '--eval.limit', '5',
      ]),
    );
    expect(problems).toEqual([
      'model: give either model.path (a Hugging Face model folder) or model.init: random, not both',
      "model.config: required when model.init is 'random' (a config.json, e.g. models/qwen3-0.6b.json)",
      "data.grpo: required because stages includes 'grpo'",
      'data.eval: required because eval.every is set (the held-out pairs evaluated during training)',
      'sft.minLr (0.001) must not exceed sft.lr (0.0000015)',
      'sft.batchRows must be even (the two judgments of a pair stay in one batch), got 7',
      'sft.microBatchRows (8) must not exceed sft.batchRows (7)',
      'grpo.generationRows (17) must not exceed the rollouts of a batch (2 * batchPairs * rollouts = 16)',
      'grpo.reward.low (2) must not exceed grpo.reward.high (1)',
    ]);
  });

  it("names an unknown key that is also an Object method without printing the method's source", () => {
    const problems = problemsOf(() => loadTrainConfig(null, [...VALID, '--constructor', '1', '--toString', 'x']));
    expect(problems.filter((p) => p.startsWith('unknown key'))).toEqual([
      expect.stringMatching(/^unknown key 'constructor'( \(|$)/),
      expect.stringMatching(/^unknown key 'toString'( \(|$)/),
    ]);
    expect(problems.join('\n')).not.toContain('[native code]');
  });

  it("checks the reward levels: never negative; low above high only matters to 'graded'", () => {
    expect(problemsOf(() => loadTrainConfig(null, [...VALID, '--grpo.reward.high', '-1', '--grpo.reward.low', '-1']))).toEqual([
      expect.stringMatching(/^grpo\.reward\.high: .*-1/),
      expect.stringMatching(/^grpo\.reward\.low: .*-1/),
    ]);
    // 'constant' pays high for any positive margin, so a high below the unused low is a valid constant f
    const constant = loadTrainConfig(null, [...VALID, '--grpo.reward.f', 'constant', '--grpo.reward.high', '0.3']);
    expect(constant.grpo.reward).toMatchObject({ f: 'constant', high: 0.3 });
    expect(problemsOf(() => loadTrainConfig(null, [...VALID, '--grpo.reward.high', '0.3']))).toEqual(['grpo.reward.low (0.5) must not exceed grpo.reward.high (0.3)']);
  });

  it('requires a tokenizer with random init and checks model and data paths on disk', () => {
    const problems = problemsOf(() =>
      loadTrainConfig(null, ['--model.init', 'random', '--model.config', join(dir, 'missing.json'), '--stages', 'sft', '--data.sft', dir]),
    );
    expect(problems).toEqual([
      "tokenizer: required when model.init is 'random' (a folder with tokenizer.json, or the file)",
      `data.sft: cannot tell the format of '${dir}' from its extension; use .jsonl, .ndjson, .json or .parquet, or set data.format`,
      `model.config: no such file or folder: ${join(dir, 'missing.json')}`,
      `data.sft: expected a file, found a folder: ${dir}`,
    ]);
  });

  it('finds a model folder without config.json and a tokenizer folder without tokenizer.json', () => {
    const empty = join(dir, 'empty-model');
    mkdirSync(empty, { recursive: true });
    const problems = problemsOf(() => loadTrainConfig(null, ['--model.path', empty, '--stages', 'sft', '--data.sft', sftData]));
    expect(problems).toEqual([`model.path: no config.json in ${empty}`, `tokenizer: no tokenizer.json in ${empty}`]);
    // With path checks off only the config's own consistency is checked.
    expect(loadTrainConfig(null, ['--model.path', empty, '--stages', 'sft', '--data.sft', sftData], { checkPaths: false }).model.path).toBe(empty);
  });

  it("checks sequence lengths against the model's context", () => {
    const problems = problemsOf(() => loadTrainConfig(null, [...VALID, '--grpo.maxPromptLen', '40000', '--sft.maxSeqLen', '50000']));
    expect(problems).toEqual([
      "sft.maxSeqLen (50000) exceeds the model's context (max_position_embeddings 40960)",
      "grpo.maxPromptLen + grpo.maxNewTokens (44096) exceeds the model's context (max_position_embeddings 40960)",
    ]);
  });

  it('accepts random init from a models/*.json with a tokenizer file, and loads that model config', () => {
    const cfg = loadTrainConfig(null, ['--model.init', 'random', '--model.config', 'models/qwen3-0.6b.json', '--tokenizer', tokenizerFile, '--stages', 'sft', '--data.sft', sftData]);
    expect(loadModelConfig(cfg).hiddenSize).toBe(1024);
  });

  it('reports YAML syntax errors and a non-mapping top level', () => {
    const broken = file('broken.yaml', 'sft:\n  lr: [1\n');
    expect(problemsOf(() => loadTrainConfig(broken, []))[0]).toMatch(/^not valid YAML: /);
    const list = file('list.yaml', '- 1\n- 2\n');
    expect(problemsOf(() => loadTrainConfig(list, []))).toEqual(['the top level must be a mapping of keys, got [1,2]']);
    expect(problemsOf(() => loadTrainConfig(file('x.toml', ''), []))).toEqual(["unknown config extension '.toml': use .json, .yaml or .yml"]);
  });
});

describe('describeConfig and configHash', () => {
  it('dumps YAML that loads back to the same config', () => {
    const cfg = loadTrainConfig(null, [...VALID, '--grpo.steps', '12', '--template.rubricsFile', sftData]);
    const dumped = file('dumped.yaml', describeConfig(cfg));
    expect(readFileSync(dumped, 'utf8')).toMatch(/^# Training config/);
    expect(loadTrainConfig(dumped, [])).toEqual(cfg);
  });

  it('hashes training settings only', () => {
    const a = loadTrainConfig(null, VALID);
    const b: TrainConfig = { ...a, outDir: 'elsewhere', log: { every: 5 } };
    const c: TrainConfig = { ...a, grpo: { ...a.grpo, lr: 1e-6 } };
    expect(configHash(b)).toBe(configHash(a));
    expect(configHash(c)).not.toBe(configHash(a));
    expect(configHash(a)).toMatch(/^[0-9a-f]{16}$/);
  });

  it("names the hashed settings that differ from a run's saved config, for a refused resume", () => {
    const run = loadTrainConfig(null, [...VALID, '--seed', '3', '--grpo.steps', '12', '--grpo.lr', '1e-6']);
    const saved = YAML.parse(describeConfig(run)) as Record<string, unknown>;
    const now = loadTrainConfig(null, [...VALID, '--seed', '4', '--grpo.lr', '2e-6', '--grpo.updatesPerBatch', '2',
      '--log.every', '5', '--outDir', 'elsewhere', '--model.gradientCheckpointing', 'true']); // the last three are not hashed
    const changes = ['grpo.lr: 0.000001 -> 0.000002', 'grpo.steps: 12 -> (not set)', 'grpo.updatesPerBatch: 1 -> 2', 'seed: 3 -> 4'];
    expect(changedTrainingSettings(saved, now, configHash(run))).toEqual(changes);
    // A config.yaml from before grpo.updatesPerBatch: its run computed with 1.
    const grpo = { ...(saved.grpo as Record<string, unknown>) };
    delete grpo.updatesPerBatch;
    expect(changedTrainingSettings({ ...saved, grpo }, now, configHash(run))).toEqual(changes);
    // Not the checkpoint's config, or no config at all: nothing to name.
    expect(changedTrainingSettings(saved, now, configHash(now))).toBeNull();
    expect(changedTrainingSettings({ seed: 3 }, now, configHash(run))).toBeNull();
    expect(changedTrainingSettings('seed: 3', now, configHash(run))).toBeNull();
    // A checkpoint hashed with data.eval (acceptedConfigHashes' older hash) is compared with it.
    const evaluated = loadTrainConfig(null, [...VALID, '--data.eval', grpoData]);
    expect(changedTrainingSettings(YAML.parse(describeConfig(evaluated)), loadTrainConfig(null, VALID), acceptedConfigHashes(evaluated)[1]!))
      .toEqual([`data.eval: ${JSON.stringify(grpoData)} -> (not set)`]);
    // At most 8, then how many more.
    const sft = { epochs: 7, batchRows: 8, lr: 0.5, minLr: 0.25, warmupSteps: 3, gradClip: 0.5, weightDecay: 0.5, eps: 0.5, maxSeqLen: 100, teacherMarginThreshold: 7 };
    const many = loadTrainConfig(null, [...VALID, ...Object.entries(sft).flatMap(([k, v]) => [`--sft.${k}`, String(v)])]);
    const named = changedTrainingSettings(saved, { ...many, seed: 3, grpo: run.grpo }, configHash(run))!;
    expect(named).toHaveLength(9);
    expect(named[8]).toBe('and 2 more');
  });

  it('data.layout.eval needs data.eval, the file it says how to read', () => {
    expect(problemsOf(() => loadTrainConfig(null, [...VALID, '--data.layout.eval', 'row-pairs']))).toEqual([
      'data.layout.eval: only used with data.eval, which is not set',
    ]);
    const withEval = loadTrainConfig(null, [...VALID, '--data.eval', grpoData, '--data.layout.eval', 'row-pairs']);
    expect(evalLayout(withEval)).toBe('row-pairs');
  });

  it('eval.every needs data.eval, its other keys need eval.every, and neither changes the hash', () => {
    expect(problemsOf(() => loadTrainConfig(null, [...VALID, '--eval.every', '10']))).toEqual([
      'data.eval: required because eval.every is set (the held-out pairs evaluated during training)',
    ]);
    expect(problemsOf(() => loadTrainConfig(null, [...VALID, '--eval.limit', '50', '--eval.maxNewTokens', '64', '--eval.kvMemoryBytes', '1000000']))).toEqual([
      'eval.limit: only used with eval.every, which is not set',
      'eval.maxNewTokens: only used with eval.every, which is not set',
      'eval.kvMemoryBytes: only used with eval.every, which is not set',
    ]);
    const plain = loadTrainConfig(null, VALID);
    const evaluated = loadTrainConfig(null, [...VALID, '--data.eval', grpoData, '--eval.every', '10', '--eval.limit', '50', '--eval.maxNewTokens', '64', '--eval.kvMemoryBytes', '1000000']);
    expect(evaluated.eval).toEqual({ every: 10, limit: 50, maxNewTokens: 64, kvMemoryBytes: 1_000_000 });
    expect(configHash(evaluated)).toBe(configHash(plain));
    // A run that set data.eval before it left the hash wrote a hash with it, which still resumes.
    expect(acceptedConfigHashes(plain)).toEqual([configHash(plain)]);
    const [current, before] = acceptedConfigHashes(evaluated);
    expect(current).toBe(configHash(evaluated));
    expect(before).not.toBe(current);
    expect(acceptedConfigHashes(loadTrainConfig(null, [...VALID, '--data.eval', sftData, '--eval.every', '10']))[1]).not.toBe(before);
  });

  it('hashes the grpo keys added later only away from their defaults, so older checkpoints still resume', () => {
    const a = loadTrainConfig(null, VALID);
    expect([a.grpo.unbiasedStd, a.grpo.klEstimator, a.grpo.lossAggregation, a.grpo.updatesPerBatch, a.grpo.referenceDtype, a.grpo.kvCacheDtype]).toEqual([true, 'k3', 'token-mean', 1, 'f32', 'f32']);
    const { unbiasedStd: _u, klEstimator: _k, lossAggregation: _l, updatesPerBatch: _p, referenceDtype: _r, kvCacheDtype: _c, ...before } = a.grpo; // the config as runs before the keys hashed it
    expect(configHash({ ...a, grpo: before as TrainConfig['grpo'] })).toBe(configHash(a));
    const others = [['--grpo.unbiasedStd', 'false'], ['--grpo.klEstimator', 'k1'], ['--grpo.klEstimator', 'k2'], ['--grpo.lossAggregation', 'seq-mean-token-mean'], ['--grpo.lossAggregation', 'seq-mean-token-sum'], ['--grpo.updatesPerBatch', '2'], ['--grpo.referenceDtype', 'bf16'], ['--grpo.kvCacheDtype', 'f16']];
    const hashes = others.map((o) => configHash(loadTrainConfig(null, [...VALID, ...o])));
    expect(new Set([configHash(a), ...hashes]).size).toBe(others.length + 1);
    expect(problemsOf(() => loadTrainConfig(null, [...VALID, '--grpo.klEstimator', 'k4', '--grpo.lossAggregation', 'seq-mean', '--grpo.referenceDtype', 'f16', '--grpo.kvCacheDtype', 'bf16']))).toEqual([
      "grpo.klEstimator: must be one of 'k1', 'k2', 'k3', got 'k4'",
      "grpo.referenceDtype: must be one of 'f32', 'bf16', got 'f16'",
      "grpo.kvCacheDtype: must be one of 'f32', 'f16', got 'bf16'",
      "grpo.lossAggregation: must be one of 'token-mean', 'seq-mean-token-mean', 'seq-mean-token-sum', got 'seq-mean'",
    ]);
  });
});

describe('grpo.clipRatioC', () => {
  it("is verl's 3 by default, more than 1 or 0 for none, and hashed only where it can bind", () => {
    const a = loadTrainConfig(null, VALID);
    expect(a.grpo.clipRatioC).toBe(3);
    expect(loadTrainConfig(null, [...VALID, '--grpo.clipRatioC', '0']).grpo.clipRatioC).toBe(0);
    for (const bad of ['1', '0.5']) {
      expect(problemsOf(() => loadTrainConfig(null, [...VALID, '--grpo.clipRatioC', bad]))).toEqual([
        `grpo.clipRatioC (${bad}) must be more than 1 (verl's dual clip bounds -A * ratio from above for A < 0), or 0 for no dual clip`,
      ]);
    }
    // One update per batch: the ratio is 1 and no value binds, so checkpoints from before the key resume.
    const { clipRatioC: _c, ...before } = a.grpo;
    expect(configHash({ ...a, grpo: before as TrainConfig['grpo'] })).toBe(configHash(a));
    expect(configHash(loadTrainConfig(null, [...VALID, '--grpo.clipRatioC', '0']))).toBe(configHash(a));
    // Several updates per batch: it changes the training, and a run without it (0) hashes as before the key.
    const two = (c: string) => configHash(loadTrainConfig(null, [...VALID, '--grpo.updatesPerBatch', '2', '--grpo.clipRatioC', c]));
    expect(two('3')).not.toBe(two('0'));
    const twoCfg = loadTrainConfig(null, [...VALID, '--grpo.updatesPerBatch', '2', '--grpo.clipRatioC', '0']);
    const { clipRatioC: _c2, ...twoBefore } = twoCfg.grpo;
    expect(configHash({ ...twoCfg, grpo: twoBefore as TrainConfig['grpo'] })).toBe(two('0'));
  });
});

describe('configHash and the data keys added later', () => {
  it('hashes data.layout and data.fields only away from their defaults, so older checkpoints still resume', () => {
    const a = loadTrainConfig(null, VALID);
    const { layout: _l, fields: _f, ...before } = a.data; // the config as runs before the keys hashed it
    expect(configHash({ ...a, data: before as TrainConfig['data'] })).toBe(configHash(a));
    const others = [['--data.layout.grpo', 'row-pairs'], ['--data.layout.sft', 'row-pairs'], ['--data.fields.prompt', 'question']];
    const hashes = others.map((o) => configHash(loadTrainConfig(null, [...VALID, ...o])));
    expect(new Set([configHash(a), ...hashes]).size).toBe(others.length + 1);
  });
});

describe('models/', () => {
  const names = readdirSync('models');

  it('has the Qwen3 configs of qwen3.md, each a valid config.json', () => {
    // [hidden, layers, heads, kv heads, head_dim, intermediate, tied]
    const table: Record<string, [number, number, number, number, number, number, boolean]> = {
      'qwen3-0.6b.json': [1024, 28, 16, 8, 128, 3072, true],
      'qwen3-1.7b.json': [2048, 28, 16, 8, 128, 6144, true],
      'qwen3-4b.json': [2560, 36, 32, 8, 128, 9728, true],
      'qwen3-8b.json': [4096, 36, 32, 8, 128, 12288, false],
      'qwen3-14b.json': [5120, 40, 40, 8, 128, 17408, false],
    };
    expect(names.filter((n) => n.startsWith('qwen3-') && n.endsWith('.json')).sort()).toEqual(Object.keys(table).sort());
    for (const [name, [H, L, Hq, Hkv, D, I, tied]] of Object.entries(table)) {
      const json = JSON.parse(readFileSync(join('models', name), 'utf8')) as Record<string, unknown>;
      const cfg = parseQwen3Config(json, name);
      expect([cfg.hiddenSize, cfg.numLayers, cfg.numHeads, cfg.numKvHeads, cfg.headDim, cfg.intermediateSize, cfg.tieWordEmbeddings], name).toEqual([H, L, Hq, Hkv, D, I, tied]);
      expect([cfg.vocabSize, cfg.ropeTheta, cfg.rmsNormEps, cfg.maxPositionEmbeddings, cfg.torchDtype], name).toEqual([151936, 1e6, 1e-6, 40960, 'bfloat16']);
    }
    // The names promise the sizes: 0.6B and 8B parameter counts.
    const count = (name: string) => paramCount(parseQwen3Config(JSON.parse(readFileSync(join('models', name), 'utf8')), name));
    expect(count('qwen3-0.6b.json')).toBe(596049920);
    expect(count('qwen3-8b.json')).toBe(8190735360);
  });

  it('the default job\'s tiny judge config is a valid config.json sized for the tiny tokenizer', () => {
    const cfg = parseQwen3Config(JSON.parse(readFileSync(join('models', 'tiny-judge.json'), 'utf8')), 'tiny-judge.json');
    expect(cfg.vocabSize).toBe(384);
  });

  it('every models/*.yaml is a valid training config (paths not checked)', () => {
    const yamls = names.filter((n) => n.endsWith('.yaml'));
    expect(yamls.sort()).toEqual(['patarm-0.6b.yaml', 'patarm-14b.yaml', 'patarm-8b.yaml']);
    for (const name of yamls) {
      const cfg = loadTrainConfig(join('models', name), [], { checkPaths: false });
      expect(cfg.name).toBe(name.replace(/\.yaml$/, ''));
      expect(cfg.model.path).toMatch(/^\/path\/to\/Qwen3-/);
    }
  });

  it("patarm-8b.yaml and patarm-14b.yaml carry the paper's settings", () => {
    for (const name of ['patarm-8b.yaml', 'patarm-14b.yaml']) {
      const { sft, grpo, data } = loadTrainConfig(join('models', name), [], { checkPaths: false });
      expect([sft.lr, sft.minLr, sft.batchRows, sft.epochs], name).toEqual([1.5e-6, 1.5e-7, 512, 1]);
      expect([grpo.lr, 2 * grpo.batchPairs, grpo.rollouts, grpo.maxNewTokens, grpo.temperature, grpo.topP, grpo.clipEps, grpo.klCoef], name).toEqual([
        5e-7, 256, 16, 4096, 1, 1, 0.2, 0.001,
      ]);
      expect([grpo.betas, grpo.weightDecay, grpo.gradClip, grpo.epochs, grpo.reward.f, grpo.reward.threshold], name).toEqual([[0.9, 0.999], 0.01, 1, 1, 'graded', 2]);
      expect(data.sft).toBe('/path/to/sft_train_35.6k.jsonl');
      expect(data.grpo).toBe('/path/to/rl_train_mix_41.7k.jsonl');
    }
  });
});
