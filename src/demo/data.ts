// The default job's data: synthetic rule-checkable preference pairs split into
// SFT / GRPO / held-out test pairs, SFT pairs carrying the noisy rule-based
// teacher's judgments. Written as ordinary data files, so the default job
// trains through exactly the path a user's own data takes.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { injectLabelNoise } from '../data/index.js';
import { makeSplits, teacherJudgePair, SYNTH_RUBRICS, type SynthPair, type SynthTask } from '../synth/index.js';

export interface DemoDataOptions {
  seed: number;
  sftPairs: number;
  grpoPairs: number;
  testPairs: number;
  /** Teacher noise: probability that a judgment states the wrong verdict. */
  teacherFlip: number;
  taskWeights?: Partial<Record<SynthTask, number>>;
}

export interface DemoData {
  dir: string;
  sftFile: string;
  grpoFile: string;
  testFile: string;
  rubricsFile: string;
  test: SynthPair[];
}

export function writeDemoData(dir: string, o: DemoDataOptions): DemoData {
  mkdirSync(dir, { recursive: true });
  // "train" feeds both stages: the first sftPairs for SFT, the rest for GRPO (disjoint pairs, shared prompt pool).
  const splits = makeSplits({ seed: o.seed, train: o.sftPairs + o.grpoPairs, val: 0, test: o.testPairs, taskWeights: o.taskWeights });
  const sft = splits.train.slice(0, o.sftPairs);
  const grpo = splits.train.slice(o.sftPairs);
  const line = (x: object) => JSON.stringify(x) + '\n';
  const sftRows = sft.map((pair) => {
    const j = teacherJudgePair(pair, { seed: o.seed, noise: { jitter: 1, flipProbability: o.teacherFlip } });
    return line({ ...pairFields(pair), chosen_judgment: j.chosenJudgment, rejected_judgment: j.rejectedJudgment });
  });
  const files = { sftFile: join(dir, 'sft.jsonl'), grpoFile: join(dir, 'grpo.jsonl'), testFile: join(dir, 'test.jsonl'), rubricsFile: join(dir, 'rubrics.json') };
  writeFileSync(files.sftFile, sftRows.join(''));
  writeFileSync(files.grpoFile, grpo.map((p) => line(pairFields(p))).join(''));
  writeFileSync(files.testFile, splits.test.map((p) => line(pairFields(p))).join(''));
  writeFileSync(files.rubricsFile, JSON.stringify(SYNTH_RUBRICS, null, 2));
  return { dir, ...files, test: splits.test };
}

function pairFields(p: SynthPair): Record<string, string> {
  return { id: p.id, prompt: p.prompt, chosen: p.chosen, rejected: p.rejected, task: p.task };
}

/** The same pairs with a fraction of chosen/rejected swapped (the paper's label-noise study). */
export function flipLabels(file: string, pairs: readonly SynthPair[], fraction: number, seed: number): void {
  const { pairs: noisy } = injectLabelNoise([...pairs], { fraction, seed });
  writeFileSync(file, noisy.map((p) => JSON.stringify(pairFields(p as SynthPair)) + '\n').join(''));
}
