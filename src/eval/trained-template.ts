/**
 * A judge is only measured fairly with the prompt template it was trained with: the chat
 * template or raw tagged text, Qwen3 thinking, and the rubrics. When `--model` is a checkpoint
 * of train.js, its run folder's config.yaml says which; every setting this evaluation renders
 * differently is named before the GPU work starts, since accuracy under the wrong template
 * measures the mismatch, not the judge. (A warning, not an error: evaluating a judge under
 * another template can be the experiment.)
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import YAML from 'yaml';
import { STATE_FILE } from '../train/checkpoint.js';
import { CONFIG_FILE } from '../train/config.js';

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

/**
 * Warnings for each template setting of `choice` that differs from the training run's, or none
 * when `modelDir` is not a train.js checkpoint with its run's config.yaml beside it.
 */
export function trainedTemplateWarnings(modelDir: string, choice: EvalTemplateChoice): string[] {
  const configFile = join(dirname(resolve(modelDir)), CONFIG_FILE);
  if (!existsSync(join(modelDir, STATE_FILE)) || !existsSync(configFile)) return [];
  let template: Record<string, unknown>;
  try {
    const parsed: unknown = YAML.parse(readFileSync(configFile, 'utf8'));
    const t = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>)['template'] : undefined;
    if (typeof t !== 'object' || t === null) return [`${configFile} has no template section, so whether this evaluation renders prompts as training did is not checked`];
    template = t as Record<string, unknown>;
  } catch (err) {
    return [`${configFile} cannot be read (${(err as Error).message}), so whether this evaluation renders prompts as training did is not checked`];
  }
  const trained = `${modelDir} was trained (${configFile})`;
  const warnings: string[] = [];
  const chat = template['chat'] === true;
  if (chat !== choice.chatTemplate) {
    warnings.push(`${trained} on ${chat ? 'the chat template' : 'raw tagged text'}, and this evaluation renders ${choice.chatTemplate ? 'the chat template' : 'raw tagged text'}: ${chat ? 'add' : 'drop'} --chat-template`);
  }
  const thinking = template['thinking'] === true;
  // Raw text renders the same prompt either way; the chat template's empty think block differs.
  if (chat && choice.chatTemplate && thinking !== choice.thinking) {
    warnings.push(`${trained} with thinking ${thinking ? 'on' : 'off'}, and this evaluation has it ${choice.thinking ? 'on' : 'off'}: pass --thinking ${thinking ? 'on' : 'off'}`);
  }
  const rubricsFile = typeof template['rubricsFile'] === 'string' ? template['rubricsFile'] : undefined;
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
