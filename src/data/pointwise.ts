import type { PointwiseRow, PreferencePair } from './types.js';

/**
 * Each pair becomes two pointwise rows, chosen then rejected, sharing the pair id: rows 2k and
 * 2k+1 are pair k, the layout the PAR reward and the pair-preserving sampler rely on.
 */
export function pairsToPointwiseRows(pairs: readonly PreferencePair[]): PointwiseRow[] {
  const rows: PointwiseRow[] = [];
  for (const pair of pairs) {
    const { id, chosen, rejected, ...shared } = pair;
    rows.push({ ...shared, pairId: id, side: 'chosen', response: chosen });
    rows.push({ ...shared, pairId: id, side: 'rejected', response: rejected });
  }
  return rows;
}
