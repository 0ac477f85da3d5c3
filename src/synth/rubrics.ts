/**
 * Short primary rubrics for the synthetic family. The default job renders every prompt with one of
 * these instead of the full primary rubric (patarm/rubrics.ts), because each rubric token is paid
 * for on every row on a CPU. They share one frame and the words of the teacher's criteria, so the
 * tiny tokenizer's few merges cover them as whole words; the score bands are left to the teacher's
 * scores (high 8-10, low 0-2), and the aspect (correctness, coverage) is named by what is scored.
 */
import type { RubricOverrides } from '../patarm/rubrics.js';
import { renderPointwise, type TemplateRenderOptions } from '../patarm/templates.js';
import type { SynthTask } from './kind.js';

export const SYNTH_RUBRICS: Readonly<Record<SynthTask, string>> & RubricOverrides = {
  math: 'Score the exact number.',
  code: 'Score the exact output.',
  instruction_following: 'Score the letter rule.',
  chat: 'Score the exact answer.',
};

/** The pointwise input for one synthetic (prompt, response), rendered with the short rubric. */
export function renderSynthPointwise(
  task: SynthTask,
  prompt: string,
  response: string,
  options: TemplateRenderOptions = {},
): string {
  return renderPointwise({ task, prompt, response, rubric: SYNTH_RUBRICS[task] }, options);
}
