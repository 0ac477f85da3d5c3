/**
 * Teacher filtering of SFT data: a teacher judged both responses of a pair; keep the pair only when
 * the teacher clearly agrees with the label, i.e. score(chosen) - score(rejected) > threshold
 * (default 2, strictly greater). A pair whose teacher judgment did not parse (null score) is dropped.
 * Scores may be fractional, and 4.4 - 2.4 is 2.0000000000000004 in floats: a margin within PAR's
 * tie tolerance of the threshold counts as equal to it, as in PAR's marginReward.
 */
import { DEFAULT_TIE_TOLERANCE } from '../patarm/par.js';

export interface TeacherScored {
  chosenScore: number | null;
  rejectedScore: number | null;
}

export interface TeacherFilterOptions {
  threshold?: number;
}

export interface DroppedByTeacher<T> {
  item: T;
  index: number;
  /** chosen - rejected, or null when a teacher score is missing. */
  margin: number | null;
  reason: string;
}

export interface TeacherFilterResult<T> {
  kept: T[];
  dropped: DroppedByTeacher<T>[];
}

export const DEFAULT_TEACHER_MARGIN = 2;

export function filterByTeacherMargin<T extends TeacherScored>(
  items: readonly T[],
  options: TeacherFilterOptions = {},
): TeacherFilterResult<T> {
  const threshold = options.threshold ?? DEFAULT_TEACHER_MARGIN;
  if (!Number.isFinite(threshold)) throw new Error(`filterByTeacherMargin: threshold ${threshold} is not finite`);
  const kept: T[] = [];
  const dropped: DroppedByTeacher<T>[] = [];
  for (const [index, item] of items.entries()) {
    const { chosenScore, rejectedScore } = item;
    if (chosenScore === null || rejectedScore === null || !Number.isFinite(chosenScore) || !Number.isFinite(rejectedScore)) {
      const missing = chosenScore === null || !Number.isFinite(chosenScore) ? 'chosen' : 'rejected';
      dropped.push({ item, index, margin: null, reason: `no valid teacher score for the ${missing} response` });
      continue;
    }
    const margin = chosenScore - rejectedScore;
    if (margin > threshold + DEFAULT_TIE_TOLERANCE) {
      kept.push(item);
    } else {
      const tie = margin > threshold ? ` (it is within the tie tolerance ${DEFAULT_TIE_TOLERANCE}, a rounding error)` : '';
      dropped.push({ item, index, margin, reason: `teacher margin ${margin} does not exceed ${threshold}${tie}` });
    }
  }
  return { kept, dropped };
}
