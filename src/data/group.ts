/**
 * Grouping rollouts by pair id and side. PAR needs, for each pair, the rollouts of its chosen row
 * and of its rejected row; grouping by id (never by position in the batch) keeps that right when
 * generation reorders or interleaves rollouts.
 */
import type { PairSide } from './types.js';

export interface RolloutKey {
  pairId: string;
  side: PairSide;
}

export interface PairRollouts<R> {
  pairId: string;
  chosen: R[];
  rejected: R[];
}

export interface GroupRolloutsOptions {
  /** When set, each side of each pair must have exactly this many rollouts. */
  rolloutsPerSide?: number;
}

/** Groups in order of each pair's first rollout; rollouts keep their relative order. Throws when
 * a pair lacks a side (its PAR would be meaningless) or a count differs from rolloutsPerSide. */
export function groupRolloutsByPair<R extends RolloutKey>(
  rollouts: readonly R[],
  options: GroupRolloutsOptions = {},
): PairRollouts<R>[] {
  const groups = new Map<string, PairRollouts<R>>();
  for (const [i, rollout] of rollouts.entries()) {
    if (rollout.side !== 'chosen' && rollout.side !== 'rejected') {
      throw new Error(`groupRolloutsByPair: rollout ${i} has side '${String(rollout.side)}'; expected 'chosen' or 'rejected'`);
    }
    let group = groups.get(rollout.pairId);
    if (group === undefined) {
      group = { pairId: rollout.pairId, chosen: [], rejected: [] };
      groups.set(rollout.pairId, group);
    }
    group[rollout.side].push(rollout);
  }
  for (const group of groups.values()) {
    for (const side of ['chosen', 'rejected'] as const) {
      const count = group[side].length;
      if (count === 0) throw new Error(`groupRolloutsByPair: pair '${group.pairId}' has no ${side} rollouts`);
      if (options.rolloutsPerSide !== undefined && count !== options.rolloutsPerSide) {
        throw new Error(
          `groupRolloutsByPair: pair '${group.pairId}' has ${count} ${side} rollouts, expected ${options.rolloutsPerSide}`,
        );
      }
    }
  }
  return [...groups.values()];
}
