// Turns a pointwise row into the token ids of its judging prompt: the PaTaRM
// template (raw tagged text, or the user turn of the chat template), with the
// task detected from the row's labels and the rubric overrides of the run.
import { detectTask, renderPointwise, type RubricOverrides } from '../patarm/index.js';
import type { PointwiseRow } from '../data/index.js';
import type { Tokenizer } from '../tokenizer/index.js';

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

export async function encodeJudgePrompt(tokenizer: Tokenizer, row: Parameters<typeof renderJudgePrompt>[0], o: JudgeTemplateOptions): Promise<Int32Array> {
  return tokenizer.encode(renderJudgePrompt(row, o));
}
