// Held-out evaluation of the default job, in the paper's three ways:
// pointwise (judge chosen and rejected separately; correct iff s(chosen) > s(rejected),
// ties and unparseable count wrong, with the ties-as-half variant), voting@k (k judgments
// per response at temperature 1, mean scores compared; patarm.md section 5) and pairwise
// (both responses in one prompt, the chosen one first in exactly half of each group, in a
// seeded arrangement; tie or error = 0.5).
import { deriveSeed, mulberry32, type PreferencePair } from '../data/index.js';
import { judgeWithModel } from '../eval/gpu-judge.js';
import { greedyJudge, greedyPointwise, pairCredits, pointwisePrompts, scoreOfJudgment } from '../eval/held-out.js';
import { balancedPairOrders } from '../eval/items.js';
import type { Qwen3 } from '../model/qwen3.js';
import { detectTask, parseJudgment, renderPairwise } from '../patarm/index.js';
import type { Tokenizer } from '../tokenizer/index.js';
import type { JudgeTemplateOptions } from '../train/prompts.js';

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
  const greedy = await greedyPointwise(model, tokenizer, pairs, template, o);
  const pointwiseByGroup = o.groupOf && groupMeans(pairs.map(o.groupOf), greedy.perPair);

  // Voting@k at the sampling temperature GRPO trains at (1.0): it also separates two judgments
  // the greedy decode scores the same, which the main metric counts as a tie (wrong).
  const sampler = judgeWithModel(model, tokenizer, { temperature: 1, topP: 1, maxNewTokens: o.maxNewTokens, seed: o.seed });
  const sampled = (await sampler(pointwisePrompts(pairs, template), { k: o.votingK, seed: deriveSeed(o.seed, 78) })).map((d) => d.map((text) => scoreOfJudgment(text, template)));
  const voting = pairCredits(sampled, o.votingK).reduce((sum, c) => sum + c.tiesWrong, 0);

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
    const verdicts = (await greedyJudge(model, tokenizer, o)(pwPrompts, { k: 1, seed: o.seed })).map((d) => d[0]!);
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
    pointwise: greedy.accuracy,
    pointwiseTiesHalf: greedy.accuracyTiesHalf,
    formatErrorRate: greedy.formatErrorRate,
    voting: voting / pairs.length,
    votingK: o.votingK,
    pairwise,
    pairwiseFormatErrorRate: pairwiseErrors,
    ...(pointwiseByGroup && { pointwiseByGroup }),
    pointwisePerPair: greedy.perPair,
  };
}

/**
 * Greedy pointwise accuracy alone (ties and malformed count wrong): the cheap score the default job
 * picks its SFT judge by, on the GRPO pairs (preference labels only; the test pairs stay unseen).
 */
export async function greedyPointwiseAccuracy(
  model: Qwen3, tokenizer: Tokenizer, pairs: readonly PreferencePair[], template: JudgeTemplateOptions, o: { seed: number; maxNewTokens: number },
): Promise<number> {
  return (await greedyPointwise(model, tokenizer, pairs, template, o)).accuracy;
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
