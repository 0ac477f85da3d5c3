/**
 * A judge is only measured fairly with the prompt template it was trained with: the chat
 * template or raw tagged text, Qwen3 thinking, and the rubrics. When `--model` is a checkpoint
 * of train.js, its run folder's config.yaml says which, and when it is a judge exported by
 * tools/export-model.js, its judge_template.json; every setting this evaluation renders
 * differently is named before the GPU work starts, since accuracy under the wrong template
 * measures the mismatch, not the judge. (A warning, not an error: evaluating a judge under
 * another template can be the experiment.)
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { JUDGE_TEMPLATE_FILE, readJudgeTemplateSync, readRunTemplate, type RunTemplate } from '../train/export.js';

export interface EvalTemplateChoice {
  chatTemplate: boolean;
  thinking: boolean;
  /** The --rubrics file, if any. */
  rubrics?: string;
}

/** Same file, or files with the same text: a copy of a rubric file is the same rubrics. */
function sameRubricFile(a: string, b: string): boolean {
  if (resolve(a) === resolve(b)) return true;
  try {
    return readFileSync(a, 'utf8') === readFileSync(b, 'utf8');
  } catch {
    return false;
  }
}

/** What training rendered prompts with, and where that is recorded. */
interface TrainedTemplate {
  /** The record, for the warnings: a run's config.yaml or an exported judge's judge_template.json. */
  source: string;
  chat: boolean;
  thinking: boolean;
  rubricsFile?: string;
}

/**
 * The template recorded for `modelDir`: an exported judge's judge_template.json (train/export.ts),
 * or the config.yaml of the run a train.js checkpoint belongs to; null when neither is there, a
 * warning string when the record cannot be read.
 */
function trainedTemplate(modelDir: string): TrainedTemplate | string | null {
  const exported = join(modelDir, JUDGE_TEMPLATE_FILE);
  if (existsSync(exported)) {
    try {
      const t = readJudgeTemplateSync(modelDir)!;
      return { source: exported, chat: t.chat, thinking: t.thinking, ...(t.rubricsFile !== null && { rubricsFile: t.rubricsFile }) };
    } catch (err) {
      return `${(err as Error).message}, so whether this evaluation renders prompts as training did is not checked`;
    }
  }
  let run: RunTemplate | null;
  try {
    run = readRunTemplate(modelDir);
  } catch (err) {
    return `${(err as Error).message}, so whether this evaluation renders prompts as training did is not checked`;
  }
  if (run === null) return null;
  return { source: run.configFile, chat: run.chat, thinking: run.thinking, ...(run.rubricsFile !== null && { rubricsFile: run.rubricsFile }) };
}

/**
 * Warnings for each template setting of `choice` that differs from the one `modelDir` was trained
 * with, or none when that is not recorded (trainedTemplate).
 */
export function trainedTemplateWarnings(modelDir: string, choice: EvalTemplateChoice): string[] {
  const recorded = trainedTemplate(modelDir);
  if (recorded === null) return [];
  if (typeof recorded === 'string') return [recorded];
  const { chat, thinking, rubricsFile } = recorded;
  const trained = `${modelDir} was trained (${recorded.source})`;
  const warnings: string[] = [];
  if (chat !== choice.chatTemplate) {
    warnings.push(`${trained} on ${chat ? 'the chat template' : 'raw tagged text'}, and this evaluation renders ${choice.chatTemplate ? 'the chat template' : 'raw tagged text'}: ${chat ? 'add' : 'drop'} --chat-template`);
  }
  // Raw text renders the same prompt either way; the chat template's empty think block differs.
  if (chat && choice.chatTemplate && thinking !== choice.thinking) {
    warnings.push(`${trained} with thinking ${thinking ? 'on' : 'off'}, and this evaluation has it ${choice.thinking ? 'on' : 'off'}: pass --thinking ${thinking ? 'on' : 'off'}`);
  }
  if (rubricsFile !== undefined && choice.rubrics !== undefined && !existsSync(rubricsFile)) {
    // A path relative to where training ran: nothing here to compare --rubrics with.
    warnings.push(`${trained} with the rubrics of ${rubricsFile}, which is not found from here: whether --rubrics ${choice.rubrics} holds the same ones is not checked`);
  } else if (rubricsFile !== undefined && (choice.rubrics === undefined || !sameRubricFile(rubricsFile, choice.rubrics))) {
    warnings.push(
      `${trained} with the rubrics of ${rubricsFile}, and this evaluation renders ${choice.rubrics === undefined ? "the paper's primary rubrics" : `those of ${choice.rubrics}`}: pass --rubrics ${rubricsFile}`,
    );
  } else if (rubricsFile === undefined && choice.rubrics !== undefined) {
    warnings.push(`${trained} with the paper's primary rubrics, and this evaluation renders those of ${choice.rubrics}: drop --rubrics`);
  }
  return warnings;
}
