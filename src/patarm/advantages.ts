/**
 * GRPO group advantages (verl's default): A_i = (r_i - mean) / (std + eps) over one group of
 * rollouts, std unbiased (n - 1). In PaTaRM a group is the n rollouts of one row (chosen or
 * rejected), never the whole pair.
 */

export interface GroupAdvantageOptions {
  eps?: number;
  /** Divide by (std + eps); false gives the plain centred rewards (Dr. GRPO style). */
  normalizeStd?: boolean;
  /** The std with n - 1 (verl's torch.std, default true) or with n (the population std). */
  unbiasedStd?: boolean;
}

export function groupAdvantages(rewards: readonly number[], options: GroupAdvantageOptions = {}): number[] {
  const eps = options.eps ?? 1e-6;
  const normalizeStd = options.normalizeStd ?? true;
  for (const r of rewards) {
    if (!Number.isFinite(r)) throw new Error(`groupAdvantages: reward ${r} is not finite`);
  }
  const n = rewards.length;
  // A group of one has no spread to learn from; identical rewards carry no signal either, and
  // returning exact zeros avoids a float residue of the mean being divided by eps.
  if (isUniformGroup(rewards)) return rewards.map(() => 0);
  let sum = 0;
  for (const r of rewards) sum += r;
  const mean = sum / n;
  if (!normalizeStd) return rewards.map((r) => r - mean);
  let squares = 0;
  for (const r of rewards) squares += (r - mean) ** 2;
  const std = Math.sqrt(squares / ((options.unbiasedStd ?? true) ? n - 1 : n));
  return rewards.map((r) => (r - mean) / (std + eps));
}

/** True when a group's rewards are all equal (a group of 0 or 1 included): its advantages are all 0. */
export function isUniformGroup(rewards: readonly number[]): boolean {
  return rewards.every((r) => r === rewards[0]);
}

/**
 * Of a batch's pairs, the share whose chosen group and the share whose rejected group is uniform.
 * A side whose groups are mostly uniform gives GRPO little to learn from on that side: the update
 * is driven by the other one (e.g. when every rejected rollout already says `no`, the only verdict
 * signal left comes from the chosen side).
 */
export function uniformGroupShares(pairs: readonly { chosen: readonly number[]; rejected: readonly number[] }[]): { chosen: number; rejected: number } {
  if (pairs.length === 0) throw new Error('uniformGroupShares: no pairs');
  const share = (side: 'chosen' | 'rejected') => pairs.filter((p) => isUniformGroup(p[side])).length / pairs.length;
  return { chosen: share('chosen'), rejected: share('rejected') };
}

/** Both groups' advantages of one pair: GRPO normalises the chosen and the rejected rollouts apart. */
export function pairAdvantages(
  rewards: { chosen: { rewards: readonly number[] }; rejected: { rewards: readonly number[] } },
  options: GroupAdvantageOptions = {},
): { chosen: number[]; rejected: number[] } {
  return { chosen: groupAdvantages(rewards.chosen.rewards, options), rejected: groupAdvantages(rewards.rejected.rewards, options) };
}
