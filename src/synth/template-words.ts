/**
 * The fixed wording of the synthetic family: the words of the prompt templates, the rubrics, the
 * teacher's judgments and the task tags. The tiny tokenizer keeps these as whole pieces and spells
 * every other letter on its own, so the content a judge must check (the word to reverse, the
 * response, the letters it compares) is one token per character. A tiny model copies and compares
 * characters it sees one at a time; inside merged pieces ("pe" "ar", " g" "um") the same letter
 * would hide behind dozens of ids.
 */
import type { SynthKind } from './kind.js';
import { SYNTH_RUBRICS } from './rubrics.js';
import { SYNTH_TASKS } from './kind.js';
import { JUDGMENT_WORDS, TEACHER_CRITERIA } from './judgment-words.js';

/** A word of a kind's prompts is template wording when at least this share of its prompts has it. */
const TEMPLATE_SHARE = 0.25;

const wordsOf = (text: string): string[] => text.match(/[A-Za-z]{2,}/g) ?? [];

/** Words at least TEMPLATE_SHARE of the kind's prompts contain ("Reverse", "the", "after"). */
function promptTemplateWords(kind: SynthKind): string[] {
  const prompts = kind.prompts();
  const counts = new Map<string, number>();
  for (const prompt of prompts) for (const word of new Set(wordsOf(prompt))) counts.set(word, (counts.get(word) ?? 0) + 1);
  return [...counts].filter(([, n]) => n >= TEMPLATE_SHARE * prompts.length).map(([word]) => word);
}

/** Sorted, distinct; every entry is a run of two or more ASCII letters. */
export function templateWords(kinds: readonly SynthKind[]): string[] {
  const words = new Set<string>([
    ...kinds.flatMap(promptTemplateWords),
    ...Object.values(SYNTH_RUBRICS).flatMap(wordsOf),
    ...Object.values(TEACHER_CRITERIA).flatMap(wordsOf),
    ...JUDGMENT_WORDS,
    ...SYNTH_TASKS.flatMap(wordsOf),
  ]);
  return [...words].sort();
}

/**
 * The pre-tokenizer's split pattern: an optional space and a whole template word, or one ASCII
 * letter, or one digit. Everything else (spaces, punctuation, other scripts) is left in the runs
 * between matches. Letter lookarounds rather than \b, because `_` is a word character for \b and
 * "instruction_following" must still split into its two words.
 */
export function templateSplitPattern(words: readonly string[]): string {
  const longestFirst = [...words].sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
  return ` ?(?<![A-Za-z])(?:${longestFirst.join('|')})(?![A-Za-z])|[A-Za-z]|[0-9]`;
}
