// Turns a pointwise row into the token ids of its judging prompt: the PaTaRM
// template (raw tagged text, or the user turn of the chat template), with the
// task detected from the row's labels and the rubric overrides of the run.
import { detectTask, renderPointwise, type RubricOverrides } from '../patarm/index.js';
import type { PointwiseRow } from '../data/index.js';
import { assistantTurnAfterGenerationPrompt, TokenizerError, type Tokenizer } from '../tokenizer/index.js';

export interface JudgeTemplateOptions {
  /** Wrap the tagged text as the user turn of the chat template (else raw text, as the model card). */
  chat: boolean;
  thinking: boolean;
  rubrics?: RubricOverrides;
}

export function renderJudgePrompt(row: Pick<PointwiseRow, 'prompt' | 'response' | 'task' | 'subset' | 'domain' | 'ability'>, o: JudgeTemplateOptions): string {
  const { task } = detectTask({ task: row.task, subset: row.subset, domain: row.domain, ability: row.ability });
  return renderPointwise(
    { task, prompt: row.prompt, response: row.response, rubric: o.rubrics?.[task] },
    { chatTemplate: o.chat ? { enableThinking: o.thinking } : false },
  );
}

/**
 * The text of an SFT target for a teacher judgment (its end token is added apart): the judgment
 * as written without the chat template; with it, the assistant turn Qwen3's template renders
 * after the generation prompt (`assistantTurnAfterGenerationPrompt`: with thinking on it opens
 * with the think block), or a problem when the template refuses the judgment.
 */
export function sftTargetText(judgment: string, o: Pick<JudgeTemplateOptions, 'chat' | 'thinking'>): { text: string; problem?: string } {
  if (!o.chat) return { text: judgment };
  try {
    return { text: assistantTurnAfterGenerationPrompt(judgment, o.thinking) };
  } catch (e) {
    if (e instanceof TokenizerError) return { text: judgment, problem: `does not fit the chat template: ${e.message}` };
    throw e;
  }
}

export async function encodeJudgePrompt(tokenizer: Tokenizer, row: Parameters<typeof renderJudgePrompt>[0], o: JudgeTemplateOptions): Promise<Int32Array> {
  return tokenizer.encode(renderJudgePrompt(row, o));
}
