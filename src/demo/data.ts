// The default job's data: synthetic rule-checkable preference pairs split into
// SFT / GRPO / held-out test pairs, SFT pairs carrying the noisy rule-based
// teacher's judgments. Written as ordinary data files, so the default job
// trains through exactly the path a user's own data takes.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { injectLabelNoise } from '../data/index.js';
import { DEFAULT_TEACHER_NOISE, makeSplits, teacherJudgePair, SYNTH_KINDS, SYNTH_RUBRICS, type HeldOutWords, type SynthPair, type SynthTask } from '../synth/index.js';

export interface DemoDataOptions {
  seed: number;
  sftPairs: number;
  grpoPairs: number;
  testPairs: number;
  /** Teacher noise: probability that a judgment states the wrong verdict. */
  teacherFlip: number;
  /** Teacher noise: scores move by a uniform integer in [-jitter, +jitter] (default: the teacher's, 1). */
  teacherJitter?: number;
  /** The teacher's base scores of a response it judges correct / wrong (default 9 / 1). */
  teacherScores?: { correct: number; wrong: number };
  /** The teacher compares letters without regard to case (a systematic blind spot; default false). */
  teacherIgnoresCase?: boolean;
  /** Probability that a teacher judgment writes its comparison line (default 1; see TeacherOptions). */
  teacherTraceShare?: number;
  /** Per-kind teacher noise, overriding teacherFlip for those kinds (a teacher weak at some task). */
  teacherFlipByKind?: Readonly<Record<string, number>>;
  taskWeights?: Partial<Record<SynthTask, number>>;
  /** Only these task kinds (e.g. the character-level ones a tiny model can learn to check in minutes). */
  kinds?: readonly string[];
  /** Share of partial pairs (both responses wrong, the chosen one only in letter case) where a kind has them. */
  partialShare?: number;
  /** How test, GRPO and SFT prompts are kept apart (makeSplits' splitBy; default 'prompt'). */
  splitBy?: 'prompt' | 'word';
  /** What the held-out (GRPO and test) prompts ask about (makeSplits' heldOutWords; default 'vocabulary'). */
  heldOutWords?: HeldOutWords;
  /** Made-up words the SFT prompts also ask about, with heldOutWords 'made-up' (makeSplits' trainMadeUpWords; default 0). */
  trainMadeUpWords?: number;
  /** Made-up words the GRPO and test prompts share, cut between them by prompt (makeSplits' sharedHeldOutWords; default 0: a set each). */
  sharedHeldOutWords?: number;
}

export interface DemoData {
  dir: string;
  sftFile: string;
  grpoFile: string;
  testFile: string;
  rubricsFile: string;
  grpo: SynthPair[];
  test: SynthPair[];
}

/** A seed's pairs and SFT rows, drawn but not yet written. */
export interface DemoDataDraw {
  sftRows: string[];
  grpo: SynthPair[];
  test: SynthPair[];
}

/**
 * Draws the pairs and the teacher's judgments in memory. Bad options throw here, so that a caller
 * can draw before it replaces an earlier run's files.
 */
export function drawDemoData(o: DemoDataOptions): DemoDataDraw {
  // SFT pairs come from the train split, GRPO pairs from the validation split: GRPO sees prompts the
  // teacher never judged, so what it adds is learnt from preference labels alone.
  const splits = kindFiltered(o);
  const sftRows = splits.train.map((pair) => {
    const flipProbability = o.teacherFlipByKind?.[pair.kind] ?? o.teacherFlip;
    const j = teacherJudgePair(pair, { seed: o.seed, noise: { jitter: o.teacherJitter ?? DEFAULT_TEACHER_NOISE.jitter, flipProbability }, correctScore: o.teacherScores?.correct, wrongScore: o.teacherScores?.wrong, ignoreCase: o.teacherIgnoresCase, traceProbability: o.teacherTraceShare });
    return line({ ...pairFields(pair), chosen_judgment: j.chosenJudgment, rejected_judgment: j.rejectedJudgment });
  });
  return { sftRows, grpo: splits.val, test: splits.test };
}

/** Writes a draw as the data files a run reads. */
export function writeDemoDataDraw(dir: string, draw: DemoDataDraw): DemoData {
  mkdirSync(dir, { recursive: true });
  const files = { sftFile: join(dir, 'sft.jsonl'), grpoFile: join(dir, 'grpo.jsonl'), testFile: join(dir, 'test.jsonl'), rubricsFile: join(dir, 'rubrics.json') };
  writeFileSync(files.sftFile, draw.sftRows.join(''));
  writeFileSync(files.grpoFile, draw.grpo.map((p) => line(pairFields(p))).join(''));
  writeFileSync(files.testFile, draw.test.map((p) => line(pairFields(p))).join(''));
  writeFileSync(files.rubricsFile, JSON.stringify(SYNTH_RUBRICS, null, 2));
  return { dir, ...files, grpo: draw.grpo, test: draw.test };
}

export function writeDemoData(dir: string, o: DemoDataOptions): DemoData {
  return writeDemoDataDraw(dir, drawDemoData(o));
}

/**
 * The kind names the options give must be the family's, and `kinds` must be drawable: a misspelt
 * name would otherwise leave kindFiltered oversampling for seconds before it gave up, and a
 * misspelt key of teacherFlipByKind would be ignored.
 */
function checkKindNames(o: DemoDataOptions): void {
  const known = new Map(SYNTH_KINDS.map((k) => [k.name, k]));
  const unknown = (names: readonly string[]) => names.filter((name) => !known.has(name));
  const list = [...known.keys()].join(', ');
  if (o.kinds) {
    if (o.kinds.length === 0) throw new Error('default job data: kinds is empty; leave it out for every kind');
    if (unknown(o.kinds).length > 0) throw new Error(`default job data: unknown kinds ${unknown(o.kinds).join(', ')}; the synthetic family's kinds are ${list}`);
    const weightless = o.kinds.filter((name) => o.taskWeights?.[known.get(name)!.task] === 0);
    if (weightless.length === o.kinds.length) throw new Error(`default job data: every kind asked for (${o.kinds.join(', ')}) belongs to a task whose taskWeights entry is 0`);
  }
  const flipKinds = unknown(Object.keys(o.teacherFlipByKind ?? {}));
  if (flipKinds.length > 0) throw new Error(`default job data: teacherFlipByKind names unknown kinds ${flipKinds.join(', ')}; the synthetic family's kinds are ${list}`);
}

/**
 * makeSplits, oversampled and filtered to `kinds` (the three splits' prompts stay disjoint). The
 * oversampled draw asks about more made-up words than MADE_UP_PAIRS_PER_WORD gives for the kept
 * sizes, so with heldOutWords 'made-up' most held-out pairs have a word of their own (seed 0 of the
 * made-up variant: 298 distinct quoted words in 400 test pairs, 941 in 1280 GRPO pairs).
 */
function kindFiltered(o: DemoDataOptions): Record<'train' | 'val' | 'test', SynthPair[]> {
  checkKindNames(o);
  const want = { train: o.sftPairs, val: o.grpoPairs, test: o.testPairs };
  for (let factor = 1; ; factor *= 2) {
    const s = makeSplits({ seed: o.seed, train: want.train * factor, val: want.val * factor, test: want.test * factor, taskWeights: o.taskWeights, partialShare: o.partialShare, splitBy: o.splitBy, heldOutWords: o.heldOutWords, trainMadeUpWords: o.trainMadeUpWords, sharedHeldOutWords: o.sharedHeldOutWords });
    const keep = (p: SynthPair) => !o.kinds || o.kinds.includes(p.kind);
    const train = s.train.filter(keep), val = s.val.filter(keep), test = s.test.filter(keep);
    if (train.length >= want.train && val.length >= want.val && test.length >= want.test) {
      return { train: train.slice(0, want.train), val: val.slice(0, want.val), test: test.slice(0, want.test) };
    }
    if (factor > 64) throw new Error(`default job data: the kinds ${o.kinds?.join(', ')} are too rare in the synthetic family`);
  }
}

function pairFields(p: SynthPair): Record<string, string> {
  return { id: p.id, prompt: p.prompt, chosen: p.chosen, rejected: p.rejected, task: p.task };
}

/** One row of a JSONL file. */
function line(row: object): string {
  return JSON.stringify(row) + '\n';
}

/** The same pairs with a fraction of chosen/rejected swapped (the paper's label-noise study). */
export function flipLabels(file: string, pairs: readonly SynthPair[], fraction: number, seed: number): void {
  const { pairs: noisy } = injectLabelNoise([...pairs], { fraction, seed });
  writeFileSync(file, noisy.map((p) => line(pairFields(p as SynthPair))).join(''));
}
