// Why a judge loses the synthetic pairs it loses. Every step of a judgment on the synthetic family
// is checkable: the comparison line must show the expected character, then the response's, then
// `ok` exactly when the two agree, and the line's verdict must follow its items. So each wrong
// judgment has a first wrong step, and that step names a skill: reading the prompt (the expected
// character), reading the response, comparing two characters, or concluding; a judgment that
// states its verdict without writing a reading (as a terse teacher's does) skipped the reading.
// GRPO and SFT fix different ones (docs/default-job-findings.md).
import { parseJudgment } from '../patarm/index.js';
import { checkResponse, comparePositions, readComparedPositions } from '../synth/index.js';

export const ERROR_CAUSES = ['no reading', 'misread expected', 'misread response', 'compared wrong', 'verdict wrong', 'score only', 'garbled'] as const;
/**
 * The first wrong step of a judgment whose verdict or score is wrong. `no reading`: the verdict
 * comes with no comparison line, so the judge concluded without reading. `score only`: every step and
 * the verdict are right but the pair is still lost on the scores (a tie, say); `garbled`: the
 * comparison line cannot be read back position by position, or the judgment does not parse.
 */
export type ErrorCause = (typeof ERROR_CAUSES)[number];

export interface JudgedResponse {
  prompt: string;
  response: string;
  judgment: string;
}

/**
 * A judgment's verdict as its first line states it, after the comparison line (`…; correct`) or
 * alone (`wrong`, no reading written), or null when the line does not end in one.
 */
function statedVerdict(judgment: string): { correct: boolean; read: boolean } | null {
  const m = /^(.*;)?\s*(correct|wrong)\s*$/u.exec(judgment.split('\n', 1)[0]!);
  return m ? { correct: m[2] === 'correct', read: m[1] !== undefined } : null;
}

type StepCause = Exclude<ErrorCause, 'score only'>;

/**
 * One judgment checked step by step: its first wrong step (null when every step and the verdict
 * are right), and whether it concludes wrongly (it does not parse, or its verdict is not the
 * rule's; a judgment can misread and still conclude rightly).
 */
function assess(j: JudgedResponse): { cause: StepCause | null; concludesWrongly: boolean } {
  const garbled = { cause: 'garbled' as const, concludesWrongly: true };
  if (!parseJudgment(j.judgment, 'pointwise', { thinking: false }).ok) return garbled;
  const check = checkResponse(j.prompt, j.response);
  const stated = statedVerdict(j.judgment);
  const verdict = stated?.correct ?? null;
  const wrong = (cause: StepCause) => ({ cause, concludesWrongly: verdict !== check.correct });
  if (stated && !stated.read) return verdict === check.correct ? { cause: null, concludesWrongly: false } : wrong('no reading');
  const truth = readComparedPositions(comparePositions(check.expected, check.got));
  const said = readComparedPositions(j.judgment);
  for (let k = 0; k < truth.length; k++) {
    const t = truth[k]!, s = said[k];
    if (!s) return wrong('garbled');
    if (s.expected !== t.expected) return wrong('misread expected');
    if (s.got !== t.got) return wrong('misread response');
    if (s.said !== t.said) return wrong('compared wrong');
  }
  // A comparison line of the wrong shape is garbled, but the judgment still concludes rightly
  // when its verdict is the rule's: it is not to blame for a lost pair then.
  if (said.length !== truth.length || verdict === null) return wrong('garbled');
  return verdict === check.correct ? { cause: null, concludesWrongly: false } : wrong('verdict wrong');
}

/** The first wrong step of one judgment, or null when its steps and verdict are all right. */
export function firstWrongStep(j: JudgedResponse): StepCause | null {
  return assess(j).cause;
}

export interface LostPair {
  /** The pair's id, to find it in the pairs file. */
  id: string;
  kind: string;
  /** The judgments to blame: each side whose conclusion is wrong (both sides can), by first wrong step. */
  blame: { side: 'chosen' | 'rejected'; cause: ErrorCause }[];
}

/**
 * The pairs a pointwise judge loses (score of chosen not above rejected, or a judgment that does
 * not parse) and, for each, the first wrong step of each side whose conclusion is wrong. A side
 * that misreads and still concludes rightly (`qk no; wrong` for a wrong `k`) is not to blame; a
 * lost pair with no side to blame is lost on the scores alone (`score only`, on the chosen side).
 */
export function lostPairs(pairs: readonly { id: string; prompt: string; chosen: JudgedResponse; rejected: JudgedResponse }[]): LostPair[] {
  const score = (text: string) => {
    const r = parseJudgment(text, 'pointwise', { thinking: false });
    return r.ok ? r.score : null;
  };
  return pairs.flatMap((p) => {
    const c = score(p.chosen.judgment), r = score(p.rejected.judgment);
    if (c !== null && r !== null && c > r) return [];
    const blame = (['chosen', 'rejected'] as const).flatMap((side) => {
      const { cause, concludesWrongly } = assess(p[side]);
      return cause && concludesWrongly ? [{ side, cause }] : [];
    });
    return [{ id: p.id, kind: checkResponse(p.prompt, p.chosen.response).kind, blame: blame.length > 0 ? blame : [{ side: 'chosen' as const, cause: 'score only' as const }] }];
  });
}

/** Counts of blamed judgments per kind, side and cause, as `kind  side  cause  count` lines. */
export function formatLostPairs(lost: readonly LostPair[], total: number): string {
  const counts = new Map<string, number>();
  for (const p of lost) for (const b of p.blame) {
    const key = `${p.kind}\u0000${b.side}\u0000${b.cause}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const lines = [`lost ${lost.length} of ${total} pairs (pointwise ${(100 * (1 - lost.length / total)).toFixed(2)}%); blamed judgments by first wrong step:`,
    `${'kind'.padEnd(20)} ${'side'.padEnd(9)} ${'first wrong step'.padEnd(18)} ${'count'.padStart(5)}`];
  const rows = [...counts].map(([key, n]) => [...key.split('\u0000'), n] as [string, string, string, number]);
  rows.sort((a, b) => b[3] - a[3] || a[0].localeCompare(b[0]) || a[1].localeCompare(b[1]) || a[2].localeCompare(b[2]));
  for (const [kind, side, cause, n] of rows) lines.push(`${kind.padEnd(20)} ${side.padEnd(9)} ${cause.padEnd(18)} ${String(n).padStart(5)}`);
  return lines.join('\n');
}
