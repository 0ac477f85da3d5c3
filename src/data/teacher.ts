/**
 * Teacher filtering of SFT data: a teacher judged both responses of a pair; keep the pair only when
 * the teacher clearly agrees with the label, i.e. score(chosen) - score(rejected) > threshold
 * (default 2, strictly greater). A pair whose teacher judgment did not parse (null score) is dropped.
 */

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
    if (margin > threshold) {
      kept.push(item);
    } else {
      dropped.push({ item, index, margin, reason: `teacher margin ${margin} does not exceed ${threshold}` });
    }
  }
  return { kept, dropped };
}
