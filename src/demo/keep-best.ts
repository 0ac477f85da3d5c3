// Model selection one candidate at a time: the default job's SFT judges are trained in turn and
// only the best so far stays on the GPU, so choosing among N costs the memory of two.

export interface BestOf<T> {
  best: T;
  /** Index of the best candidate (the first of equal scores). */
  picked: number;
  /** Each candidate's score, in order; empty with one candidate, which is not scored. */
  scores: number[];
}

/**
 * Makes `n` candidates one after another, scores each, and disposes every candidate as soon as an
 * earlier one scores at least as well or a later one scores better.
 */
export async function keepBestOf<T>(
  n: number, make: (k: number) => Promise<T>, score: (candidate: T, k: number) => Promise<number>, dispose: (candidate: T) => void,
): Promise<BestOf<T>> {
  if (!Number.isInteger(n) || n < 1) throw new Error(`keepBestOf: need a whole number of candidates of at least 1, got ${n}`);
  if (n === 1) return { best: await make(0), picked: 0, scores: [] };
  const scores: number[] = [];
  let best: T | undefined;
  let picked = 0;
  for (let k = 0; k < n; k++) {
    const candidate = await make(k);
    scores.push(await score(candidate, k));
    if (best !== undefined && scores[k]! <= scores[picked]!) {
      dispose(candidate);
      continue;
    }
    if (best !== undefined) dispose(best);
    best = candidate;
    picked = k;
  }
  return { best: best!, picked, scores };
}
