// Everything a run reads before touching the GPU: the tokenizer, the rubric
// overrides and the preference data of each stage, tokenized and filtered.
// Any problem surfaces here, with its file and row, before the first kernel.
import { filterByTeacherMargin, injectLabelNoise, loadPairs, type PreferencePair } from '../data/index.js';
import type { Qwen3Config } from '../io/hf-model.js';
import { loadRubricFile, parseJudgment, type RubricOverrides } from '../patarm/index.js';
import { loadTokenizer, type Tokenizer } from '../tokenizer/index.js';
import type { TrainConfig } from './config.js';
import { encodeJudgePrompt, type JudgeTemplateOptions } from './prompts.js';
import type { PromptCompletion } from './sequences.js';

export interface SftPair {
  pair: PreferencePair;
  /** Chosen row then rejected row: judge prompt ids and the teacher judgment ids (ending in the EOS token). */
  rows: [PromptCompletion, PromptCompletion];
}

export interface RunData {
  tokenizer: Tokenizer;
  template: JudgeTemplateOptions;
  sft: SftPair[];
  sftDropped: number;
  grpo: PreferencePair[];
  flippedPairs: number;
  notes: string[];
}

export async function prepareRunData(cfg: TrainConfig, model: Qwen3Config): Promise<RunData> {
  const notes: string[] = [];
  const tokenizerPath = cfg.tokenizer ?? cfg.model.path;
  if (!tokenizerPath) throw new Error('no tokenizer: set `tokenizer` (a folder with tokenizer.json) when model.init is random');
  const tokenizer = await loadTokenizer(tokenizerPath);
  if (tokenizer.vocabSize > model.vocabSize) {
    throw new Error(`tokenizer ${tokenizer.path} has ${tokenizer.vocabSize} tokens but the model's vocabulary holds ${model.vocabSize}: they do not belong together`);
  }
  const rubrics: RubricOverrides | undefined = cfg.template.rubricsFile ? loadRubricFile(cfg.template.rubricsFile) : undefined;
  const template: JudgeTemplateOptions = { chat: cfg.template.chat, thinking: cfg.template.thinking, rubrics };

  let sft: SftPair[] = [];
  let sftDropped = 0;
  if (cfg.stages.includes('sft')) {
    const loaded = await loadPairs(cfg.data.sft!, { onBadRow: cfg.data.onBadRow });
    for (const s of loaded.skipped) notes.push(`sft data: skipped ${s.where}: ${s.reason}`);
    const scored = [];
    for (const [index, pair] of loaded.pairs.entries()) {
      if (!pair.chosenJudgment || !pair.rejectedJudgment) {
        throw new Error(`${cfg.data.sft}: pair ${pair.id} has no teacher judgments (fields chosen_judgment and rejected_judgment are needed for SFT)`);
      }
      // A judgment the parser rejects would teach the wrong format: a bad row, not a low margin.
      const problems: string[] = [];
      const score = (side: string, text: string) => {
        const parsed = parseJudgment(text, 'pointwise', { thinking: cfg.template.thinking });
        if (parsed.ok) return parsed.score;
        problems.push(`the ${side} teacher judgment is malformed (${parsed.error}: ${parsed.detail})`);
        return null;
      };
      const chosenScore = score('chosen', pair.chosenJudgment);
      const rejectedScore = score('rejected', pair.rejectedJudgment);
      if (problems.length > 0) {
        const msg = `${cfg.data.sft}: pair ${pair.id}: ${problems.join('; ')}`;
        if (cfg.data.onBadRow === 'error') throw new Error(msg);
        notes.push(`skipped: ${msg}`);
        continue;
      }
      scored.push({ pair, index, chosenScore, rejectedScore });
    }
    const { kept, dropped } = filterByTeacherMargin(scored, { threshold: cfg.sft.teacherMarginThreshold });
    sftDropped = dropped.length;
    if (dropped.length) notes.push(`sft data: kept ${kept.length} of ${scored.length} pairs whose teacher margin exceeds ${cfg.sft.teacherMarginThreshold}`);
    if (kept.length === 0) throw new Error(`${cfg.data.sft}: no pair passes the teacher-margin filter (threshold ${cfg.sft.teacherMarginThreshold})`);
    sft = [];
    for (const { pair } of kept) {
      const rows = [] as unknown as [PromptCompletion, PromptCompletion];
      for (const [side, response, judgment] of [['chosen', pair.chosen, pair.chosenJudgment!], ['rejected', pair.rejected, pair.rejectedJudgment!]] as const) {
        const prompt = await encodeJudgePrompt(tokenizer, { ...pair, response }, template);
        const completion = Int32Array.from([...await tokenizer.encode(judgment), tokenizer.eosId]);
        if (prompt.length + completion.length > cfg.sft.maxSeqLen) {
          const msg = `${cfg.data.sft}: pair ${pair.id} (${side}) has ${prompt.length + completion.length} tokens, more than sft.maxSeqLen ${cfg.sft.maxSeqLen}`;
          if (cfg.data.onBadRow === 'error') throw new Error(msg);
          notes.push(`skipped: ${msg}`);
          break;
        }
        rows.push({ prompt, completion });
      }
      if (rows.length === 2) sft.push({ pair, rows });
    }
    if (sft.length === 0) throw new Error(`${cfg.data.sft}: every pair that passed the teacher-margin filter is longer than sft.maxSeqLen ${cfg.sft.maxSeqLen} tokens`);
  }

  let grpo: PreferencePair[] = [];
  let flippedPairs = 0;
  if (cfg.stages.includes('grpo')) {
    const loaded = await loadPairs(cfg.data.grpo!, { onBadRow: cfg.data.onBadRow });
    for (const s of loaded.skipped) notes.push(`grpo data: skipped ${s.where}: ${s.reason}`);
    grpo = loaded.pairs;
    if (cfg.grpo.labelNoise > 0) {
      const noisy = injectLabelNoise(grpo, { fraction: cfg.grpo.labelNoise, seed: cfg.seed });
      grpo = noisy.pairs;
      flippedPairs = noisy.flippedIndices.length;
      notes.push(`grpo data: flipped the labels of ${flippedPairs} of ${grpo.length} pairs (labelNoise ${cfg.grpo.labelNoise})`);
    }
    // Judge prompts too long for grpo.maxPromptLen are found now, not mid-run.
    const fitting: PreferencePair[] = [];
    for (const pair of grpo) {
      let longest = 0;
      for (const response of [pair.chosen, pair.rejected]) {
        longest = Math.max(longest, (await encodeJudgePrompt(tokenizer, { ...pair, response }, template)).length);
      }
      if (longest <= cfg.grpo.maxPromptLen) { fitting.push(pair); continue; }
      const msg = `${cfg.data.grpo}: pair ${pair.id}: prompt of ${longest} tokens exceeds grpo.maxPromptLen ${cfg.grpo.maxPromptLen}`;
      if (cfg.data.onBadRow === 'error') throw new Error(msg);
      notes.push(`skipped: ${msg}`);
    }
    grpo = fitting;
    if (grpo.length < cfg.grpo.batchPairs) throw new Error(`${cfg.data.grpo}: ${grpo.length} pairs, fewer than grpo.batchPairs ${cfg.grpo.batchPairs}`);
  }
  return { tokenizer, template, sft, sftDropped, grpo, flippedPairs, notes };
}
