/**
 * Benchmark examples -> judging items, each with a stable key that names it in judgment files.
 *
 * Pointwise: one item per (example, response). Keys: `<id>:chosen` / `<id>:rejected` when the
 * example has one response per side, `<id>:chosen:<i>` / `<id>:rejected:<j>` (style index) when
 * it has several (RM-Bench).
 * Pairwise: one item per comparison. Keys: `<id>:pair`, or `<id>:c<i>:r<j>` for RM-Bench's nine
 * style comparisons. Which response is shown as A is balanced (`balancedPairOrders`) within each
 * group and RM-Bench style cell, arranged by one mulberry32 stream seeded with `seed`, and recorded
 * in the item (and in every judgment saved for it), so the verdict is always read against the
 * order the judge actually saw.
 */
import type { PairSide } from '../data/index.js';
import { mulberry32 } from '../data/index.js';
import { renderPairwise, renderPointwise, type RubricOverrides, type TaskType, type TemplateRenderOptions } from '../patarm/index.js';
import type { BenchmarkExample } from './benchmark.js';

/** Which response is A: `chosen-rejected` = A is chosen, B rejected; `rejected-chosen` = the reverse. */
export type PairOrder = 'chosen-rejected' | 'rejected-chosen';
export const PAIR_ORDERS: readonly PairOrder[] = ['chosen-rejected', 'rejected-chosen'];

export type EvalMode = 'pointwise' | 'pairwise';

interface ItemBase {
  key: string;
  exampleId: string;
  /** The example's group (RewardBench subset, RM-Bench domain, task of a plain pair). */
  group: string;
  task: TaskType;
  /** The rendered judge input. */
  prompt: string;
}

export interface PointwiseItem extends ItemBase {
  mode: 'pointwise';
  side: PairSide;
  /** Index into the example's chosen or rejected list (the style for RM-Bench). */
  index: number;
}

export interface PairwiseItem extends ItemBase {
  mode: 'pairwise';
  chosenIndex: number;
  rejectedIndex: number;
  order: PairOrder;
}

export type JudgingItem = PointwiseItem | PairwiseItem;

export interface BuildItemsOptions {
  mode: EvalMode;
  /** Seeds the A/B order of pairwise items. */
  seed?: number;
  template?: TemplateRenderOptions;
  /** Rubrics replacing the primary ones, per task (a judge trained with its own rubrics). */
  rubrics?: RubricOverrides;
}

function hasStyles(example: BenchmarkExample): boolean {
  return example.chosen.length > 1 || example.rejected.length > 1;
}

export function pointwiseKey(exampleId: string, side: PairSide, index: number | null): string {
  return index === null ? `${exampleId}:${side}` : `${exampleId}:${side}:${index}`;
}

export function pairwiseKey(exampleId: string, styles: { chosenIndex: number; rejectedIndex: number } | null): string {
  return styles === null ? `${exampleId}:pair` : `${exampleId}:c${styles.chosenIndex}:r${styles.rejectedIndex}`;
}

/** The keys buildItems gives an example's items, without rendering prompts. */
export function itemKeysOf(example: BenchmarkExample, mode: EvalMode): string[] {
  const styled = hasStyles(example);
  if (mode === 'pointwise') {
    return (['chosen', 'rejected'] as const).flatMap((side) => example[side].map((_, index) => pointwiseKey(example.id, side, styled ? index : null)));
  }
  return example.chosen.flatMap((_, chosenIndex) =>
    example.rejected.map((_, rejectedIndex) => pairwiseKey(example.id, styled ? { chosenIndex, rejectedIndex } : null)),
  );
}

function pointwiseItems(example: BenchmarkExample, template: TemplateRenderOptions, rubric: string | undefined): PointwiseItem[] {
  const styled = hasStyles(example);
  const items: PointwiseItem[] = [];
  for (const side of ['chosen', 'rejected'] as const) {
    example[side].forEach((response, index) => {
      items.push({
        mode: 'pointwise',
        key: pointwiseKey(example.id, side, styled ? index : null),
        exampleId: example.id,
        group: example.group,
        task: example.task,
        side,
        index,
        prompt: renderPointwise({ task: example.task, prompt: example.prompt, response, rubric }, template),
      });
    });
  }
  return items;
}

/**
 * A/B orders for comparisons in strata (`strata[i]` names comparison i's): within each stratum
 * exactly half show the chosen response first (the odd one out goes either way), in an
 * arrangement drawn from `random`. Independent coin flips are balanced only on average: at seed 0
 * they showed the chosen response first for 44% of RewardBench's math-prm, so a judge that always
 * answers 'A' would score 44% there instead of 50%.
 */
export function balancedPairOrders(strata: readonly string[], random: () => number): PairOrder[] {
  const members = new Map<string, number[]>();
  strata.forEach((stratum, i) => {
    const list = members.get(stratum);
    if (list === undefined) members.set(stratum, [i]);
    else list.push(i);
  });
  const orders: PairOrder[] = new Array<PairOrder>(strata.length);
  for (const indices of members.values()) {
    const n = indices.length;
    const arrangement = Array.from({ length: n }, (_, i): PairOrder => (i < n >> 1 ? 'chosen-rejected' : 'rejected-chosen'));
    if (n % 2 === 1) arrangement[n - 1] = random() < 0.5 ? 'chosen-rejected' : 'rejected-chosen';
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [arrangement[i], arrangement[j]] = [arrangement[j]!, arrangement[i]!];
    }
    indices.forEach((index, i) => (orders[index] = arrangement[i]!));
  }
  return orders;
}

/** The stratum a pairwise comparison's A/B order is balanced in: its group, and its style cell. */
function orderStratum(example: BenchmarkExample, chosenIndex: number, rejectedIndex: number): string {
  return hasStyles(example) ? `${example.group}\u0000c${chosenIndex}r${rejectedIndex}` : example.group;
}

function pairwiseItems(example: BenchmarkExample, template: TemplateRenderOptions, rubric: string | undefined, nextOrder: () => PairOrder): PairwiseItem[] {
  const styled = hasStyles(example);
  const items: PairwiseItem[] = [];
  example.chosen.forEach((chosen, chosenIndex) => {
    example.rejected.forEach((rejected, rejectedIndex) => {
      const order = nextOrder();
      const [responseA, responseB] = order === 'chosen-rejected' ? [chosen, rejected] : [rejected, chosen];
      items.push({
        mode: 'pairwise',
        key: pairwiseKey(example.id, styled ? { chosenIndex, rejectedIndex } : null),
        exampleId: example.id,
        group: example.group,
        task: example.task,
        chosenIndex,
        rejectedIndex,
        order,
        prompt: renderPairwise({ task: example.task, prompt: example.prompt, responseA, responseB, rubric }, template),
      });
    });
  });
  return items;
}

export function buildItems(examples: readonly BenchmarkExample[], options: BuildItemsOptions): JudgingItem[] {
  const template = options.template ?? {};
  // Pairwise: every comparison's order is fixed before rendering, in item order.
  const strata = options.mode === 'pointwise' ? [] : examples.flatMap((example) =>
    example.chosen.flatMap((_, chosenIndex) => example.rejected.map((_, rejectedIndex) => orderStratum(example, chosenIndex, rejectedIndex))));
  const orders = balancedPairOrders(strata, mulberry32(options.seed ?? 0));
  let next = 0;
  const nextOrder = (): PairOrder => orders[next++]!;
  const items: JudgingItem[] = [];
  for (const example of examples) {
    const rubric = options.rubrics?.[example.task];
    if (options.mode === 'pointwise') items.push(...pointwiseItems(example, template, rubric));
    else items.push(...pairwiseItems(example, template, rubric, nextOrder));
  }
  const seen = new Set<string>();
  for (const item of items) {
    // Distinct example ids can still collide once suffixed (an id that itself ends in ':pair').
    if (seen.has(item.key)) throw new Error(`two judging items share the key '${item.key}'; example ids must not end in a key suffix`);
    seen.add(item.key);
  }
  return items;
}
