// keepBestOf: the default job's SFT-candidate selection, with stand-in candidates.
import { describe, expect, it } from 'vitest';
import { keepBestOf } from '../src/demo/keep-best.js';

async function run(scores: number[]) {
  const made: number[] = [], disposed: number[] = [];
  let alive = 0, mostAlive = 0;
  const r = await keepBestOf(scores.length, async (k) => {
    made.push(k);
    mostAlive = Math.max(mostAlive, ++alive);
    return k;
  }, async (k) => scores[k]!, (k) => { disposed.push(k); alive--; });
  return { ...r, made, disposed, mostAlive };
}

describe('keepBestOf', () => {
  it('keeps the best-scoring candidate and disposes each other one once, as soon as it loses', async () => {
    const r = await run([0.2, 0.7, 0.5, 0.9, 0.1]);
    expect([r.best, r.picked]).toEqual([3, 3]);
    expect(r.scores).toEqual([0.2, 0.7, 0.5, 0.9, 0.1]);
    expect(r.made).toEqual([0, 1, 2, 3, 4]);
    expect(r.disposed).toEqual([0, 2, 1, 4]);
    expect(r.mostAlive).toBe(2);
  });

  it('picks the first of equal scores, also when the first is the best', async () => {
    expect((await run([0.4, 0.6, 0.6])).picked).toBe(1);
    expect((await run([0.6, 0.6, 0.1])).picked).toBe(0);
    expect((await run([0, 0])).disposed).toEqual([1]);
  });

  it('does not score a single candidate, and refuses no candidates', async () => {
    let scored = false;
    const r = await keepBestOf(1, async () => 'only', async () => { scored = true; return 0; }, () => { throw new Error('disposed'); });
    expect([r.best, r.picked, r.scores, scored]).toEqual(['only', 0, [], false]);
    await expect(keepBestOf(0, async () => 0, async () => 0, () => {})).rejects.toThrow(/at least 1, got 0/);
  });
});
