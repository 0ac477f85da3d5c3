// Where GRPO's advantage lands on the judge's verdict tokens. PAR rewards a rollout for its score
// only, so a judgment that misreads a correct response (`sv no; wrong`, score 1) is blamed as a
// whole: the misread letter, but also the `no` that correctly follows two different letters.
// On the synthetic family every comparison item is checkable, so the advantage each rollout gets
// can be summed per kind of verdict item: `ok` or `no` after a matching or a different pair of
// letters. The share of that credit pushing a verdict the wrong way (towards `ok` after different
// letters, or `no` after equal ones) is what lets an outcome-only reward erode the comparison.
import type { PairRollouts, PairSide } from '../data/index.js';
import { pairAdvantages, parRewards, type GroupAdvantageOptions, type ParOptions } from '../patarm/index.js';
import { readComparedPositions } from '../synth/index.js';

/** `mismatch->ok`: the judgment said `ok` about two different letters. */
export type VerdictItemClass = 'match->ok' | 'match->no' | 'mismatch->ok' | 'mismatch->no';
export const VERDICT_ITEM_CLASSES: readonly VerdictItemClass[] = ['match->ok', 'match->no', 'mismatch->ok', 'mismatch->no'];

export interface VerdictItemCredit {
  /** Comparison items of this class over all rollouts of this side. */
  items: number;
  /** Sum of the advantages of the rollouts those items are in, counted once per item. */
  advantage: number;
  /** Part of |advantage| that makes this item's verdict more likely when it is right, less when wrong. */
  rightWay: number;
  wrongWay: number;
}

export type VerdictCredit = Record<PairSide, Record<VerdictItemClass, VerdictItemCredit>>;

/** One pair's rollout texts: n judgments of the chosen response and n of the rejected one. */
export type PairJudgments = Pick<PairRollouts<string>, 'chosen' | 'rejected'>;

function emptySide(): Record<VerdictItemClass, VerdictItemCredit> {
  const side = {} as Record<VerdictItemClass, VerdictItemCredit>;
  for (const c of VERDICT_ITEM_CLASSES) side[c] = { items: 0, advantage: 0, rightWay: 0, wrongWay: 0 };
  return side;
}

/** PAR rewards and group advantages as GRPO computes them, summed per verdict item class. */
export function verdictCredit(
  pairs: readonly PairJudgments[],
  options: { par?: ParOptions; advantages?: GroupAdvantageOptions; thinking?: boolean } = {},
): VerdictCredit {
  const credit: VerdictCredit = { chosen: emptySide(), rejected: emptySide() };
  for (const pair of pairs) {
    const par = parRewards(pair.chosen, pair.rejected, { ...options.par, parse: { thinking: options.thinking ?? false } });
    const advantages = pairAdvantages(par, options.advantages);
    for (const side of ['chosen', 'rejected'] as const) {
      pair[side].forEach((text, k) => {
        const a = advantages[side][k]!;
        for (const item of readComparedPositions(text)) {
          const match = item.expected === item.got;
          const entry = credit[side][`${match ? 'match' : 'mismatch'}->${item.said}`];
          const right = match === (item.said === 'ok');
          entry.items++;
          entry.advantage += a;
          // A positive advantage raises the verdict that was said; a negative one lowers it.
          if ((a > 0) === right) entry.rightWay += Math.abs(a);
          else entry.wrongWay += Math.abs(a);
        }
      });
    }
  }
  return credit;
}

/**
 * Share of the credit on verdicts after `match` (or `mismatch`) letters that pushes them the wrong
 * way; null when there is no such credit (no such item read, or all their advantages zero).
 */
export function wrongWayShare(credit: VerdictCredit, letters: 'match' | 'mismatch'): number | null {
  let right = 0, wrong = 0;
  for (const side of ['chosen', 'rejected'] as const) {
    for (const said of ['ok', 'no'] as const) {
      const e = credit[side][`${letters}->${said}`];
      right += e.rightWay;
      wrong += e.wrongWay;
    }
  }
  return right + wrong === 0 ? null : wrong / (right + wrong);
}

export function formatVerdictCredit(credit: VerdictCredit): string {
  const lines = [`${'side'.padEnd(9)} ${'verdict item'.padEnd(13)} ${'items'.padStart(6)} ${'advantage'.padStart(10)} ${'right way'.padStart(10)} ${'wrong way'.padStart(10)}`];
  for (const side of ['chosen', 'rejected'] as const) {
    for (const c of VERDICT_ITEM_CLASSES) {
      const e = credit[side][c];
      lines.push(`${side.padEnd(9)} ${c.padEnd(13)} ${String(e.items).padStart(6)} ${e.advantage.toFixed(2).padStart(10)} ${e.rightWay.toFixed(2).padStart(10)} ${e.wrongWay.toFixed(2).padStart(10)}`);
    }
  }
  // No credit at all (no comparison item read, or every advantage zero) is no share, not 0%.
  const pct = (x: number | null) => (x === null ? 'n/a (no credit on such verdicts)' : `${(100 * x).toFixed(1)}%`);
  lines.push('', `wrong-way share of the credit on verdicts after different letters: ${pct(wrongWayShare(credit, 'mismatch'))}; after equal letters: ${pct(wrongWayShare(credit, 'match'))}`);
  return lines.join('\n');
}
