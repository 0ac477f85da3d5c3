/**
 * GRPO group advantages (verl's default): A_i = (r_i - mean) / (std + eps) over one group of
 * rollouts, std unbiased (n - 1). In PaTaRM a group is the n rollouts of one row (chosen or
 * rejected), never the whole pair.
 */

export interface GroupAdvantageOptions {
  eps?: number;
  /** Divide by (std + eps); false gives the plain centred rewards (Dr. GRPO style). */
  normalizeStd?: boolean;
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
  if (n <= 1 || rewards.every((r) => r === rewards[0])) return rewards.map(() => 0);
  let sum = 0;
  for (const r of rewards) sum += r;
  const mean = sum / n;
  if (!normalizeStd) return rewards.map((r) => r - mean);
  let squares = 0;
  for (const r of rewards) squares += (r - mean) ** 2;
  const std = Math.sqrt(squares / (n - 1));
  return rewards.map((r) => (r - mean) / (std + eps));
}
