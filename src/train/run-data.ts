// Everything a run reads before touching the GPU: the tokenizer, the rubric
// overrides and the preference data of each stage, tokenized and filtered.
// Any problem surfaces here, with its file and row, before the first kernel.
import { filterByTeacherMargin, injectLabelNoise, loadPairs, type LoadedPairs, type PairLayout, type PreferencePair, type TeacherScored } from '../data/index.js';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Qwen3Config } from '../io/hf-model.js';
import { detectTask, loadRubricFile, parseJudgment, TASK_LABEL_FIELDS, type RubricOverrides } from '../patarm/index.js';
import { loadTokenizer, type Tokenizer } from '../tokenizer/index.js';
import { evalLayout, type TrainConfig } from './config.js';
import { encodeJudgePrompt, sftTargetText, type JudgeTemplateOptions } from './prompts.js';
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
  /** Held-out pairs evaluated during training (eval.every; the first eval.limit of data.eval); empty when off. */
  eval: PreferencePair[];
  /** Tokens of the longest judge prompt among them (0 when off): what the memory plan bounds evaluation by. */
  evalLongestPrompt: number;
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
  // A row the run cannot use: an error, or skipped with a note (data.onBadRow).
  const skippedRows: string[] = [];
  const badRow = (msg: string) => {
    if (cfg.data.onBadRow === 'error') throw new Error(msg);
    skippedRows.push(msg);
    notes.push(`skipped: ${msg}`);
  };
  const loadOptions = (stage: 'sft' | 'grpo') => ({
    onBadRow: cfg.data.onBadRow,
    layout: cfg.data.layout[stage],
    fields: cfg.data.fields,
    ...(cfg.data.format === 'auto' ? {} : { format: cfg.data.format }),
  });

  let sft: SftPair[] = [];
  let sftDropped = 0;
  if (cfg.stages.includes('sft')) {
    const file = cfg.data.sft!;
    const loaded = requirePairs(file, await loadPairs(file, loadOptions('sft')), cfg.data.layout.sft);
    for (const s of loaded.skipped) notes.push(`sft data: skipped ${s.where}: ${s.reason}`);
    const scored: (TeacherScored & { pair: PreferencePair; index: number; completions: [Int32Array, Int32Array] })[] = [];
    for (const [index, pair] of loaded.pairs.entries()) {
      if (!pair.chosenJudgment || !pair.rejectedJudgment) {
        const needed = cfg.data.layout.sft === 'row-pairs' ? `a '${cfg.data.fields.judgment ?? 'judgment'}' field on both of its rows` : 'the fields chosen_judgment and rejected_judgment';
        badRow(`${file}: pair ${pair.id} has no teacher judgments (SFT needs ${needed})`);
        continue;
      }
      // A judgment that would teach the wrong thing is a bad row, not a low margin: one the parser
      // rejects (the wrong format), or one holding special-token text such as <|im_end|>, which
      // would encode as the real token and teach the judge to stop in mid-judgment.
      const problems: string[] = [];
      const judged = [] as unknown as [{ score: number | null; ids: Int32Array }, { score: number | null; ids: Int32Array }];
      for (const [side, text] of [['chosen', pair.chosenJudgment], ['rejected', pair.rejectedJudgment]] as const) {
        const parsed = parseJudgment(text, 'pointwise', { thinking: cfg.template.thinking });
        if (!parsed.ok) problems.push(`the ${side} teacher judgment is malformed (${parsed.error}: ${parsed.detail})`);
        const target = sftTargetText(text, cfg.template);
        if (target.problem !== undefined) problems.push(`the ${side} teacher judgment ${target.problem}`);
        const ids = await tokenizer.encode(target.text);
        // Special tokens and the control tokens Qwen3 does not mark special (<|fim_prefix|>) alike.
        const control = ids.find((id) => tokenizer.isControlToken(id));
        if (control !== undefined) {
          problems.push(`the ${side} teacher judgment holds the ${tokenizer.isSpecial(control) ? 'special' : 'control'} token ${tokenizer.tokenText(control)}`);
        }
        // The chat template closes an assistant turn with <|im_end|>, whatever eos_token a base model's files name.
        judged.push({ score: parsed.ok ? parsed.score : null, ids: Int32Array.from([...ids, cfg.template.chat ? tokenizer.imEnd : tokenizer.eosId]) });
      }
      if (problems.length > 0) {
        badRow(`${file}: pair ${pair.id}: ${problems.join('; ')}`);
        continue;
      }
      scored.push({ pair, index, chosenScore: judged[0].score, rejectedScore: judged[1].score, completions: [judged[0].ids, judged[1].ids] });
    }
    const { kept, dropped } = filterByTeacherMargin(scored, { threshold: cfg.sft.teacherMarginThreshold });
    sftDropped = dropped.length;
    if (dropped.length) notes.push(`sft data: kept ${kept.length} of ${scored.length} pairs whose teacher margin exceeds ${cfg.sft.teacherMarginThreshold}`);
    if (scored.length === 0) throw new Error(`${file}: no pair has usable teacher judgments: all ${skippedRows.length} loaded pairs were skipped as bad rows (the first: ${skippedRows[0]})`);
    if (kept.length === 0) throw new Error(`${file}: no pair passes the teacher-margin filter (threshold ${cfg.sft.teacherMarginThreshold})`);
    sft = [];
    for (const { pair, completions } of kept) {
      const rows = [] as unknown as [PromptCompletion, PromptCompletion];
      for (const [i, side, response] of [[0, 'chosen', pair.chosen], [1, 'rejected', pair.rejected]] as const) {
        const prompt = await encodeJudgePrompt(tokenizer, { ...pair, response }, template);
        const completion = completions[i];
        if (prompt.length + completion.length > cfg.sft.maxSeqLen) {
          badRow(`${file}: pair ${pair.id} (${side}) has ${prompt.length + completion.length} tokens, more than sft.maxSeqLen ${cfg.sft.maxSeqLen}`);
          break;
        }
        rows.push({ prompt, completion });
      }
      if (rows.length === 2) sft.push({ pair, rows });
    }
    if (sft.length === 0) throw new Error(`${file}: every pair that passed the teacher-margin filter is longer than sft.maxSeqLen ${cfg.sft.maxSeqLen} tokens`);
    noteTaskFallbacks('sft', sft.map((p) => p.pair), notes);
  }

  let grpo: PreferencePair[] = [];
  let flippedPairs = 0;
  if (cfg.stages.includes('grpo')) {
    const file = cfg.data.grpo!;
    const loaded = requirePairs(file, await loadPairs(file, loadOptions('grpo')), cfg.data.layout.grpo);
    for (const s of loaded.skipped) notes.push(`grpo data: skipped ${s.where}: ${s.reason}`);
    // Judge prompts too long for grpo.maxPromptLen are found now, not mid-run.
    const fitting: PreferencePair[] = [];
    for (const pair of loaded.pairs) {
      let longest = 0;
      for (const response of [pair.chosen, pair.rejected]) {
        longest = Math.max(longest, (await encodeJudgePrompt(tokenizer, { ...pair, response }, template)).length);
      }
      if (longest <= cfg.grpo.maxPromptLen) { fitting.push(pair); continue; }
      badRow(`${file}: pair ${pair.id}: prompt of ${longest} tokens exceeds grpo.maxPromptLen ${cfg.grpo.maxPromptLen}`);
    }
    grpo = fitting;
    // After the length filter, so that labelNoise is the share of the pairs trained on.
    if (cfg.grpo.labelNoise > 0) {
      const noisy = injectLabelNoise(grpo, { fraction: cfg.grpo.labelNoise, seed: cfg.seed });
      grpo = noisy.pairs;
      flippedPairs = noisy.flippedIndices.length;
      notes.push(`grpo data: flipped the labels of ${flippedPairs} of ${grpo.length} pairs (labelNoise ${cfg.grpo.labelNoise})`);
    }
    if (grpo.length < cfg.grpo.batchPairs) throw new Error(`${file}: ${grpo.length} pairs, fewer than grpo.batchPairs ${cfg.grpo.batchPairs}`);
    noteTaskFallbacks('grpo', grpo, notes);
  }
  let evalPairs: PreferencePair[] = [];
  let evalLongestPrompt = 0;
  if (cfg.eval.every !== undefined) {
    const file = cfg.data.eval!;
    const loaded = requirePairs(file, await loadPairs(file, { ...loadOptions('grpo'), layout: evalLayout(cfg) }), evalLayout(cfg));
    for (const s of loaded.skipped) notes.push(`eval data: skipped ${s.where}: ${s.reason}`);
    // Judge prompts that leave no room in the model's context for a judgment are found now, not at the first evaluation.
    for (const pair of loaded.pairs) {
      if (evalPairs.length === (cfg.eval.limit ?? Infinity)) break;
      let longest = 0;
      for (const response of [pair.chosen, pair.rejected]) {
        longest = Math.max(longest, (await encodeJudgePrompt(tokenizer, { ...pair, response }, template)).length);
      }
      if (longest < model.maxPositionEmbeddings) {
        evalPairs.push(pair);
        evalLongestPrompt = Math.max(evalLongestPrompt, longest);
        continue;
      }
      badRow(`${file}: pair ${pair.id}: prompt of ${longest} tokens leaves no room for a judgment in the model's context (max_position_embeddings ${model.maxPositionEmbeddings})`);
    }
    if (evalPairs.length === 0) throw new Error(`${file}: no pair to evaluate during training`);
    notes.push(`eval data: ${evalPairs.length} held-out pairs, judged greedily every ${cfg.eval.every} steps`);
  }
  return { tokenizer, template, sft, sftDropped, grpo, flippedPairs, eval: evalPairs, evalLongestPrompt, notes };
}

/**
 * A file with no usable pair stops the run here, saying why: otherwise a later filter ("no pair
 * passes the teacher-margin filter") would take the blame for an empty file or skipped rows.
 */
function requirePairs(file: string, loaded: LoadedPairs, layout: PairLayout): LoadedPairs {
  if (loaded.pairs.length > 0) return loaded;
  if (loaded.skipped.length === 0) throw new Error(`${file}: holds no pairs (no records at all)`);
  const first = loaded.skipped[0]!;
  // A row-pairs skip drops a pair of rows (or the odd last row).
  const what = layout === 'row-pairs' ? 'pair(s) of rows' : 'record(s)';
  throw new Error(`${file}: no usable pair: all ${loaded.skipped.length} ${what} were skipped as bad rows (the first, ${first.where}: ${first.reason})`);
}

/**
 * Pairs whose labels name no task the rubrics know are judged with the chat rubric; say how many
 * and which labels, so that a dataset's `coding` or `reasoning` does not pass for chat unnoticed.
 */
function noteTaskFallbacks(stage: string, pairs: readonly PreferencePair[], notes: string[]): void {
  const byLabels = new Map<string, number>();
  for (const pair of pairs) {
    const detection = detectTask(pair);
    if (!detection.fallback) continue;
    const labels = TASK_LABEL_FIELDS.filter((f) => pair[f] !== undefined).map((f) => `${f}=${JSON.stringify(pair[f])}`).join(' ') || 'no labels';
    byLabels.set(labels, (byLabels.get(labels) ?? 0) + 1);
  }
  if (byLabels.size === 0) return;
  const total = [...byLabels.values()].reduce((a, b) => a + b, 0);
  const shown = [...byLabels].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([l, n]) => `${l} x${n}`).join(', ');
  notes.push(`${stage} data: ${total} pair(s) judged with the chat rubric because their labels name no known task (${shown}${byLabels.size > 5 ? ', ...' : ''})`);
}

/**
 * A hash of what a run trains on, as prepared: the SFT rows' token ids, the GRPO pairs (after any
 * label flipping), the judge template with its rubrics and the tokenizer file GRPO encodes with.
 * Checkpoints keep it so that a resume on edited data files is refused: the config hash sees
 * only their paths, and the sampler only their pair counts.
 */
export function dataFingerprint(data: RunData): string {
  const h = createHash('sha256');
  const ids = (a: Int32Array) => {
    h.update(`${a.length}:`);
    h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  };
  for (const { rows } of data.sft) for (const row of rows) { ids(row.prompt); ids(row.completion); }
  h.update(JSON.stringify(data.grpo.map((p) => [p.id, p.prompt, p.chosen, p.rejected, p.task ?? null])));
  h.update(JSON.stringify(data.template));
  h.update(readFileSync(data.tokenizer.path));
  return h.digest('hex').slice(0, 16);
}
