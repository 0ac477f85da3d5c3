/**
 * The fixed wording of the teacher's judgments, apart from the teacher so that the tokenizer's
 * template words (template-words.ts) can be listed without importing the task registry.
 */
import type { SynthTask } from './kind.js';

/** The one criterion line the teacher writes per task: short, since every token costs CPU time. */
export const TEACHER_CRITERIA: Readonly<Record<SynthTask, string>> = {
  math: 'exact number',
  code: 'exact output',
  instruction_following: 'letter rule',
  chat: 'exact answer',
};

/** The fixed words of every judgment (see the teacher's formatJudgment). */
export const JUDGMENT_WORDS: readonly string[] = ['ok', 'no', 'correct', 'wrong', 'Criteria'];
