// What prepareRunData makes of SFT rows the trainer must not learn from: teacher judgments the
// parser rejects are bad rows (an error naming the pair and side, or skipped with a note under
// data.onBadRow: skip), not low-margin drops; an SFT set that the length filter empties is an
// error naming the setting.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { makeSplits, SYNTH_RUBRICS, teacherJudgePair } from '../src/synth/index.js';
import { loadModelConfig, loadTrainConfig } from '../src/train/config.js';
import { loadTokenizer } from '../src/tokenizer/index.js';
import { prepareRunData } from '../src/train/run-data.js';

function sftWorkspace(malformed: { row: number; side: 'chosen' | 'rejected'; text: string | undefined } | null, fileName = 'sft.jsonl', pairs = 6) {
  const dir = mkdtempSync(join(tmpdir(), 'run-data-'));
  const model = join(dir, 'model');
  cpSync('test/fixtures/qwen3-tiny/model', model, { recursive: true });
  cpSync('models/tiny-tokenizer', model, { recursive: true });
  const modelJson = JSON.parse(readFileSync(join(model, 'config.json'), 'utf8'));
  writeFileSync(join(model, 'config.json'), JSON.stringify({ ...modelJson, max_position_embeddings: 256 })); // room for judge prompts
  const { train } = makeSplits({ seed: 2, train: pairs, val: 0, test: 0 });
  const rubrics = join(dir, 'rubrics.json');
  writeFileSync(rubrics, JSON.stringify(SYNTH_RUBRICS)); // the short rubrics keep judge prompts under 200 tokens
  const sftData = join(dir, fileName);
  writeFileSync(sftData, train.map((p, i) => {
    const j = teacherJudgePair(p, { seed: 1, noise: { jitter: 0, flipProbability: 0 } });
    const judgments: Record<string, string | undefined> = { chosen_judgment: j.chosenJudgment, rejected_judgment: j.rejectedJudgment };
    if (malformed?.row === i) judgments[`${malformed.side}_judgment`] = malformed.text;
    return JSON.stringify({ id: p.id, prompt: p.prompt, chosen: p.chosen, rejected: p.rejected, task: p.task, ...judgments }) + '\n';
  }).join(''));
  const config = (extra: { data?: object; sft?: object; grpo?: object; stages?: string[]; template?: object }) => {
    const path = join(dir, `${Math.random().toString(36).slice(2)}.yaml`);
    const grpoStage = extra.stages?.includes('grpo');
    writeFileSync(path, stringify({
      outDir: join(dir, 'out'), stages: extra.stages ?? ['sft'], model: { path: model }, template: { chat: false, thinking: false, rubricsFile: rubrics, ...extra.template },
      data: { sft: sftData, ...(grpoStage ? { grpo: sftData } : {}), ...extra.data }, sft: { maxSeqLen: 200, ...extra.sft },
      ...(grpoStage ? { grpo: { batchPairs: 1, maxPromptLen: 200, maxNewTokens: 16, ...extra.grpo } } : {}),
    }));
    const cfg = loadTrainConfig(path, []);
    return { cfg, modelCfg: loadModelConfig(cfg) };
  };
  return { ids: train.map((p) => p.id), file: sftData, config, judgments: train.map((p) => teacherJudgePair(p, { seed: 1, noise: { jitter: 0, flipProbability: 0 } })) };
}

describe('prepareRunData on SFT rows', () => {
  it('with the chat template, ends each target as the template renders the assistant turn, closed by <|im_end|>', async () => {
    const tokenizer = await loadTokenizer('models/tiny-tokenizer');
    for (const thinking of [false, true]) {
      const ws = sftWorkspace(null);
      const { cfg, modelCfg } = ws.config({ template: { chat: true, thinking }, sft: { maxSeqLen: 256 } });
      const data = await prepareRunData(cfg, modelCfg);
      const target = data.sft[0]!.rows[0]!.completion;
      const judgment = ws.judgments[0]!.chosenJudgment;
      // Thinking off: the generation prompt holds the empty think block and the turn is the answer.
      // Thinking on: the turn opens with the block the template writes for a judgment without one.
      const text = thinking ? `<think>\n\n</think>\n\n${judgment}` : judgment;
      expect(Array.from(target), `thinking ${thinking}`).toEqual([...await tokenizer.encode(text), tokenizer.imEnd]);
      expect(tokenizer.decode(data.sft[0]!.rows[0]!.prompt).endsWith(thinking ? '<|im_start|>assistant\n' : '<|im_start|>assistant\n<think>\n\n</think>\n\n')).toBe(true);
    }
  });

  it('refuses a teacher judgment that reasons in a think block when the chat template has thinking off', async () => {
    const ws = sftWorkspace({ row: 2, side: 'rejected', text: '<think>why</think>\naa no; wrong\n<answer>1</answer>' });
    const { cfg, modelCfg } = ws.config({ template: { chat: true, thinking: false }, sft: { maxSeqLen: 256 } });
    await expect(prepareRunData(cfg, modelCfg)).rejects.toThrow(new RegExp(`pair ${ws.ids[2]}: the rejected teacher judgment does not fit the chat template: thinking is off`));
  });

  it('takes every well-formed pair whose teacher margin exceeds the threshold', async () => {
    const ws = sftWorkspace(null);
    const { cfg, modelCfg } = ws.config({});
    const data = await prepareRunData(cfg, modelCfg);
    expect(data.sft.map((p) => p.pair.id)).toEqual(ws.ids); // the noiseless teacher scores 9 against 1
    expect(data.sftDropped).toBe(0);
  });

  it('refuses a malformed teacher judgment, naming the file, the pair and the side', async () => {
    const ws = sftWorkspace({ row: 3, side: 'rejected', text: 'wrong\n<answer>9/10</answer>' });
    const { cfg, modelCfg } = ws.config({});
    await expect(prepareRunData(cfg, modelCfg)).rejects.toThrow(new RegExp(`sft\\.jsonl: pair ${ws.ids[3]}: the rejected teacher judgment is malformed \\(not_a_number`));
  });

  it('skips it with a note under onBadRow: skip, and does not count it as a low margin', async () => {
    const ws = sftWorkspace({ row: 1, side: 'chosen', text: 'Score: 9' });
    const { cfg, modelCfg } = ws.config({ data: { onBadRow: 'skip' } });
    const data = await prepareRunData(cfg, modelCfg);
    expect(data.sft.map((p) => p.pair.id)).toEqual(ws.ids.filter((_, i) => i !== 1));
    expect(data.sftDropped).toBe(0);
    expect(data.notes.join('\n')).toMatch(new RegExp(`skipped: .*pair ${ws.ids[1]}: the chosen teacher judgment is malformed \\(no_answer`));
  });

  it('refuses special-token text in a teacher judgment, which would encode as the real token', async () => {
    const ws = sftWorkspace({ row: 2, side: 'chosen', text: 'aa ok; correct<|im_end|>\nCriteria:\n- exact answer\n<answer>9</answer>' });
    const { cfg, modelCfg } = ws.config({});
    await expect(prepareRunData(cfg, modelCfg)).rejects.toThrow(new RegExp(`pair ${ws.ids[2]}: the chosen teacher judgment holds the special token <\\|im_end\\|>`));
  });

  it('refuses control-token text a tokenizer does not mark special (<|...|> added tokens), and keeps its judge tags', async () => {
    const ws = sftWorkspace(null);
    // The tiny tokenizer's judge tags (<answer>) are added tokens a judgment rightly holds. Its
    // <task> tag (prompts only) becomes <|fim_prefix|>, not marked special, as in Qwen3's file.
    const dir = join(ws.file, '..', 'model');
    const tokenizerJson = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
    const task = tokenizerJson.added_tokens.find((t: { content: string }) => t.content === '<task>');
    expect(task.special).toBe(false);
    tokenizerJson.added_tokens = tokenizerJson.added_tokens.map((t: { content: string }) => (t === task ? { ...t, content: '<|fim_prefix|>' } : t));
    tokenizerJson.model.vocab = Object.fromEntries(Object.entries(tokenizerJson.model.vocab).map(([k, v]) => [k === '<task>' ? '<|fim_prefix|>' : k, v]));
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizerJson));
    const lines = readFileSync(ws.file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    lines[3].rejected_judgment = lines[3].rejected_judgment.replace('<answer>', '<|fim_prefix|><answer>');
    writeFileSync(ws.file, lines.map((l) => JSON.stringify(l) + '\n').join(''));
    const { cfg, modelCfg } = ws.config({ data: { onBadRow: 'skip' } });
    const data = await prepareRunData(cfg, modelCfg);
    expect(data.sft.map((p) => p.pair.id)).toEqual(ws.ids.filter((_, i) => i !== 3));
    expect(data.notes.join('\n')).toContain(`pair ${ws.ids[3]}: the rejected teacher judgment holds the control token <|fim_prefix|>`);
  });

  it('skips a pair without teacher judgments under onBadRow: skip (an error otherwise)', async () => {
    const ws = sftWorkspace({ row: 4, side: 'rejected', text: undefined });
    await expect(prepareRunData(ws.config({}).cfg, ws.config({}).modelCfg)).rejects.toThrow(new RegExp(`pair ${ws.ids[4]} has no teacher judgments`));
    const { cfg, modelCfg } = ws.config({ data: { onBadRow: 'skip' } });
    const data = await prepareRunData(cfg, modelCfg);
    expect(data.sft.map((p) => p.pair.id)).toEqual(ws.ids.filter((_, i) => i !== 4));
  });

  it('reads the file in data.format whatever its extension', async () => {
    const ws = sftWorkspace(null, 'sft.txt');
    const { cfg, modelCfg } = ws.config({ data: { format: 'jsonl' } });
    expect((await prepareRunData(cfg, modelCfg)).sft).toHaveLength(6);
  });

  it('reads both stages from files in the row-pairs layout, renamed fields included, as it reads the same pairs one record each', async () => {
    const ws = sftWorkspace(null);
    const rowsFile = ws.file.replace(/sft\.jsonl$/, 'rows.jsonl');
    const records = readFileSync(ws.file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    writeFileSync(rowsFile, records.flatMap((r) => ['chosen', 'rejected'].map((side) =>
      JSON.stringify({ id: r.id, question: r.prompt, output: r[side], task: r.task, critique: r[`${side}_judgment`] }) + '\n')).join(''));
    const asPairs = ws.config({ stages: ['sft', 'grpo'] });
    const asRows = ws.config({
      stages: ['sft', 'grpo'],
      data: { sft: rowsFile, grpo: rowsFile, layout: { sft: 'row-pairs', grpo: 'row-pairs' }, fields: { prompt: 'question', response: 'output', judgment: 'critique' } },
    });
    const [fromPairs, fromRows] = [await prepareRunData(asPairs.cfg, asPairs.modelCfg), await prepareRunData(asRows.cfg, asRows.modelCfg)];
    expect(fromPairs.sft).toHaveLength(6);
    expect(fromPairs.grpo).toHaveLength(6);
    expect(fromRows.sft).toEqual(fromPairs.sft);
    expect(fromRows.grpo).toEqual(fromPairs.grpo);
    // Without judgments on its rows, an SFT pair says which field it needs.
    writeFileSync(rowsFile, records.flatMap((r) => ['chosen', 'rejected'].map((side) => JSON.stringify({ id: r.id, question: r.prompt, output: r[side] }) + '\n')).join(''));
    const bare = ws.config({ data: { sft: rowsFile, layout: { sft: 'row-pairs' }, fields: { prompt: 'question', response: 'output', judgment: 'critique' } } });
    await expect(prepareRunData(bare.cfg, bare.modelCfg)).rejects.toThrow(`pair ${ws.ids[0]} has no teacher judgments (SFT needs a 'critique' field on both of its rows)`);
  });

  it('notes the pairs judged with the chat rubric because their labels name no known task', async () => {
    const ws = sftWorkspace(null);
    const lines = readFileSync(ws.file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    lines[0].task = 'coding';
    lines[1].task = 'coding';
    writeFileSync(ws.file, lines.map((l) => JSON.stringify(l) + '\n').join(''));
    const { cfg, modelCfg } = ws.config({});
    const data = await prepareRunData(cfg, modelCfg);
    expect(data.notes).toContain('sft data: 2 pair(s) judged with the chat rubric because their labels name no known task (task="coding" x2)');
  });

  it('flips the labels of labelNoise of the pairs left after the prompt-length filter', async () => {
    const ws = sftWorkspace(null, 'sft.jsonl', 10);
    // the judge prompts of these 10 pairs are 33 to 56 tokens long: 6 fit 40
    const { cfg, modelCfg } = ws.config({ stages: ['grpo'], data: { onBadRow: 'skip' }, grpo: { labelNoise: 0.5, maxPromptLen: 40 } });
    const data = await prepareRunData(cfg, modelCfg);
    expect(data.grpo).toHaveLength(6);
    expect(data.flippedPairs).toBe(3);
    expect(data.notes).toContain(`grpo data: flipped the labels of ${data.flippedPairs} of ${data.grpo.length} pairs (labelNoise 0.5)`);
  });

  it('says why no pair is left when the file is empty or every row is bad, not that the margin filter dropped them', async () => {
    const ws = sftWorkspace(null);
    writeFileSync(ws.file, '');
    await expect(prepareRunData(ws.config({}).cfg, ws.config({}).modelCfg)).rejects.toThrow(/sft\.jsonl: holds no pairs \(no records at all\)$/);
    writeFileSync(ws.file, [1, 2, 3].map((i) => JSON.stringify({ question: `q${i}`, chosen: 'a', rejected: 'b' }) + '\n').join(''));
    const { cfg, modelCfg } = ws.config({ data: { onBadRow: 'skip' } });
    await expect(prepareRunData(cfg, modelCfg)).rejects.toThrow(/sft\.jsonl: no usable pair: all 3 record\(s\) were skipped as bad rows \(the first, .*sft\.jsonl line 1: missing prompt.*found fields \[question, chosen, rejected\]\)$/);
    // Rows that load but whose teacher judgments are all unusable
    const judged = sftWorkspace({ row: 0, side: 'chosen', text: 'Score: 9' }, 'sft.jsonl', 1);
    const skip = judged.config({ data: { onBadRow: 'skip' } });
    await expect(prepareRunData(skip.cfg, skip.modelCfg)).rejects.toThrow(/sft\.jsonl: no pair has usable teacher judgments: all 1 loaded pairs were skipped as bad rows \(the first: .*the chosen teacher judgment is malformed/);
  });

  it('says so when the length filter leaves no SFT pair', async () => {
    const ws = sftWorkspace(null);
    const { cfg, modelCfg } = ws.config({ data: { onBadRow: 'skip' }, sft: { maxSeqLen: 12 } });
    await expect(prepareRunData(cfg, modelCfg)).rejects.toThrow(/every pair that passed the teacher-margin filter is longer than sft\.maxSeqLen 12 tokens/);
  });
});
