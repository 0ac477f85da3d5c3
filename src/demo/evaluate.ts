// Held-out evaluation of the default job, in the paper's three ways:
// pointwise (judge chosen and rejected separately; correct iff s(chosen) > s(rejected),
// ties and unparseable count wrong, with the ties-as-half variant), voting@k (k judgments
// per response at temperature 1, mean scores compared; patarm.md section 5) and pairwise
// (both responses in one prompt, the chosen one first in exactly half of each group, in a
// seeded arrangement; tie or error = 0.5).
import { deriveSeed, mulberry32, type PreferencePair } from '../data/index.js';
import type { PointwiseDraw } from '../eval/draws.js';
import { judgeWithModel } from '../eval/gpu-judge.js';
import { balancedPairOrders } from '../eval/items.js';
import type { JudgeFn } from '../eval/judge.js';
import { outcomeCredit, pointwiseOutcome } from '../eval/voting.js';
import type { Qwen3 } from '../model/qwen3.js';
import { detectTask, parseJudgment, renderPairwise } from '../patarm/index.js';
import type { Tokenizer } from '../tokenizer/index.js';
import { renderJudgePrompt, type JudgeTemplateOptions } from '../train/prompts.js';

export interface HeldOutScores {
  pairs: number;
  pointwise: number;
  pointwiseTiesHalf: number;
  formatErrorRate: number;
  /** Average voting over `votingK` sampled judgments per response; ties and malformed count wrong. */
  voting: number;
  votingK: number;
  pairwise: number;
  pairwiseFormatErrorRate: number;
  /** Pointwise accuracy of each group of pairs, when the caller names groups (e.g. partial pairs apart). */
  pointwiseByGroup?: Record<string, number>;
  /** Each pair's pointwise credit (1 right, 0 wrong or tied), in the order of the pairs; absent on a mean over seeds. */
  pointwisePerPair?: number[];
}

export async function evaluateHeldOut<P extends PreferencePair>(
  model: Qwen3, tokenizer: Tokenizer, pairs: readonly P[], template: JudgeTemplateOptions, o: { seed: number; maxNewTokens: number; pairwise: boolean; votingK: number; groupOf?: (pair: P) => string },
): Promise<HeldOutScores> {
  const prompts = pointwisePrompts(pairs, template);
  const scoreOf = (text: string) => scoreOfJudgment(text, template);
  const total = (each: ReturnType<typeof pairCredits>) => each.reduce(
    (sum, c) => ({ tiesWrong: sum.tiesWrong + c.tiesWrong, tiesHalf: sum.tiesHalf + c.tiesHalf }), { tiesWrong: 0, tiesHalf: 0 });

  // Greedy decoding: the evaluation measures the judge, not sampling luck.
  const judge = greedyJudge(model, tokenizer, o);
  const greedy = await greedyDraws(judge, prompts, template, o.seed);
  const greedyCredits = pairCredits(greedy, 1);
  const single = total(greedyCredits);
  const pointwiseByGroup = o.groupOf && groupMeans(pairs.map(o.groupOf), greedyCredits.map((c) => c.tiesWrong));
  const malformed = greedy.filter(([s]) => s === null).length;

  // Voting@k at the sampling temperature GRPO trains at (1.0): it also separates two judgments
  // the greedy decode scores the same, which the main metric counts as a tie (wrong).
  const sampler = judgeWithModel(model, tokenizer, { temperature: 1, topP: 1, maxNewTokens: o.maxNewTokens, seed: o.seed });
  const sampled = (await sampler(prompts, { k: o.votingK, seed: deriveSeed(o.seed, 78) })).map((d) => d.map(scoreOf));
  const voting = total(pairCredits(sampled, o.votingK)).tiesWrong;

  let pairwise = NaN, pairwiseErrors = NaN;
  if (o.pairwise) {
    // Chosen shown first for exactly half the pairs of each group (balancedPairOrders).
    const orders = balancedPairOrders(pairs.map((p) => o.groupOf?.(p) ?? ''), mulberry32(deriveSeed(o.seed, 77))).map((order) => order === 'chosen-rejected');
    const pwPrompts = pairs.map((p, i) => {
      const { task } = detectTask({ task: p.task });
      const [a, b] = orders[i] ? [p.chosen, p.rejected] : [p.rejected, p.chosen];
      return renderPairwise({ task, prompt: p.prompt, responseA: a, responseB: b, rubric: template.rubrics?.[task] },
        { chatTemplate: template.chat ? { enableThinking: template.thinking } : false });
    });
    const verdicts = (await judge(pwPrompts, { k: 1, seed: o.seed })).map((d) => d[0]!);
    let sum = 0, errors = 0;
    verdicts.forEach((text, i) => {
      const r = parseJudgment(text, 'pairwise', { thinking: template.thinking });
      if (!r.ok) { errors++; sum += 0.5; return; }
      const chosenIs = orders[i] ? 'A' : 'B';
      sum += r.verdict === chosenIs ? 1 : 0;
    });
    pairwise = sum / pairs.length;
    pairwiseErrors = errors / pairs.length;
  }
  return {
    pairs: pairs.length,
    pointwise: single.tiesWrong / pairs.length,
    pointwiseTiesHalf: single.tiesHalf / pairs.length,
    formatErrorRate: malformed / (2 * pairs.length),
    voting: voting / pairs.length,
    votingK: o.votingK,
    pairwise,
    pairwiseFormatErrorRate: pairwiseErrors,
    ...(pointwiseByGroup && { pointwiseByGroup }),
    pointwisePerPair: greedyCredits.map((c) => c.tiesWrong),
  };
}

/**
 * Greedy pointwise accuracy alone (ties and malformed count wrong): the cheap score the default job
 * picks its SFT judge by, on the GRPO pairs (preference labels only; the test pairs stay unseen).
 */
export async function greedyPointwiseAccuracy(
  model: Qwen3, tokenizer: Tokenizer, pairs: readonly PreferencePair[], template: JudgeTemplateOptions, o: { seed: number; maxNewTokens: number },
): Promise<number> {
  const draws = await greedyDraws(greedyJudge(model, tokenizer, o), pointwisePrompts(pairs, template), template, o.seed);
  return pairCredits(draws, 1).reduce((sum, c) => sum + c.tiesWrong, 0) / pairs.length;
}

/** The pointwise prompts of the pairs: chosen then rejected, pair by pair. */
function pointwisePrompts(pairs: readonly PreferencePair[], template: JudgeTemplateOptions): string[] {
  return pairs.flatMap((p) => [renderJudgePrompt({ ...p, response: p.chosen }, template), renderJudgePrompt({ ...p, response: p.rejected }, template)]);
}

function scoreOfJudgment(text: string, template: JudgeTemplateOptions): PointwiseDraw {
  const r = parseJudgment(text, 'pointwise', { thinking: template.thinking });
  return r.ok ? r.score : null;
}

function greedyJudge(model: Qwen3, tokenizer: Tokenizer, o: { seed: number; maxNewTokens: number }): JudgeFn {
  return judgeWithModel(model, tokenizer, { temperature: 0, topP: 1, maxNewTokens: o.maxNewTokens, seed: o.seed });
}

/** One greedy judgment per prompt, as parsed scores. */
async function greedyDraws(judge: JudgeFn, prompts: string[], template: JudgeTemplateOptions, seed: number): Promise<PointwiseDraw[][]> {
  return (await judge(prompts, { k: 1, seed })).map((d) => d.map((text) => scoreOfJudgment(text, template)));
}

/** Each pair's credit, decided from its first k draws per response (eval/voting.ts rules); draws alternate chosen, rejected. */
function pairCredits(draws: PointwiseDraw[][], k: number): ReturnType<typeof outcomeCredit>[] {
  return Array.from({ length: draws.length / 2 }, (_, i) => outcomeCredit(pointwiseOutcome(draws[2 * i]!, draws[2 * i + 1]!, k, 'average')));
}

/** The mean of `values` per label, labels in first-seen order. */
function groupMeans(labels: readonly string[], values: readonly number[]): Record<string, number> {
  const sums = new Map<string, { sum: number; n: number }>();
  labels.forEach((label, i) => {
    const g = sums.get(label) ?? { sum: 0, n: 0 };
    sums.set(label, { sum: g.sum + values[i]!, n: g.n + 1 });
  });
  return Object.fromEntries([...sums].map(([label, g]) => [label, g.sum / g.n]));
}
