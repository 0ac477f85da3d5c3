/**
 * Judgment records -> the first K draws of every item, parsed: a score (pointwise) or the
 * response the verdict prefers (pairwise), null when the judgment is unparseable or missing.
 * Parsing is patarm's parseJudgment, so evaluation reads outputs exactly as training rewards them.
 */
import type { PairSide } from '../data/index.js';
import { parseJudgment, type ParseJudgmentOptions } from '../patarm/index.js';
import type { JudgingItem, PairOrder } from './items.js';
import type { JudgmentRecord } from './judgments.js';

/** A pointwise draw: the score, or null (unparseable or missing). */
export type PointwiseDraw = number | null;
/** A pairwise draw: the response the verdict prefers, or null (unparseable or missing). */
export type PairwiseDraw = PairSide | null;

export interface DrawStats {
  /** Draws read for this run's items (draw < K). */
  judgments: number;
  /** Of those, judgments parseJudgment rejects, in total and by error code. */
  formatErrors: number;
  formatErrorsByCode: Record<string, number>;
  /** Draws below K missing for items that have at least one judgment. */
  missingDraws: number;
  /** Records for the same (key, draw) as an earlier one (the later one was used). */
  duplicates: number;
  /** Records with draw >= K (not used). */
  extraDraws: number;
  /** Records for items of the data set that --limit left out. */
  outsideLimit: number;
  /** Records whose key matches no item of the data set: count and the first few keys. */
  unknownKeyRecords: number;
  unknownKeys: string[];
  /** Records for a known key in the other mode (pointwise vs pairwise). */
  modeMismatches: number;
}

export interface ItemDraws {
  pointwise: Map<string, PointwiseDraw[]>;
  pairwise: Map<string, PairwiseDraw[]>;
  /** Keys with at least one judgment (draw < K). */
  judgedKeys: Set<string>;
  stats: DrawStats;
}

export interface ReadDrawsOptions {
  k: number;
  parse?: ParseJudgmentOptions;
  /** Every key of the data set before --limit, to tell "left out by the limit" from "unknown". */
  allKeys?: ReadonlySet<string>;
}

const UNKNOWN_KEYS_SHOWN = 5;

function preferred(verdict: 'A' | 'B', order: PairOrder): PairSide {
  const aIsChosen = order === 'chosen-rejected';
  return (verdict === 'A') === aIsChosen ? 'chosen' : 'rejected';
}

export function readDraws(items: readonly JudgingItem[], records: readonly JudgmentRecord[], options: ReadDrawsOptions): ItemDraws {
  const { k } = options;
  const stats: DrawStats = {
    judgments: 0,
    formatErrors: 0,
    formatErrorsByCode: {},
    missingDraws: 0,
    duplicates: 0,
    extraDraws: 0,
    outsideLimit: 0,
    unknownKeyRecords: 0,
    unknownKeys: [],
    modeMismatches: 0,
  };
  const itemByKey = new Map(items.map((item) => [item.key, item]));
  // Latest record per (key, draw).
  const latest = new Map<string, Map<number, JudgmentRecord>>();
  for (const record of records) {
    const item = itemByKey.get(record.key);
    if (item === undefined) {
      if (options.allKeys?.has(record.key)) stats.outsideLimit++;
      else {
        stats.unknownKeyRecords++;
        if (stats.unknownKeys.length < UNKNOWN_KEYS_SHOWN && !stats.unknownKeys.includes(record.key)) stats.unknownKeys.push(record.key);
      }
      continue;
    }
    if (item.mode !== record.mode) {
      stats.modeMismatches++;
      continue;
    }
    if (record.draw >= k) {
      stats.extraDraws++;
      continue;
    }
    let draws = latest.get(record.key);
    if (draws === undefined) latest.set(record.key, (draws = new Map()));
    if (draws.has(record.draw)) stats.duplicates++;
    draws.set(record.draw, record);
  }

  const result: ItemDraws = { pointwise: new Map(), pairwise: new Map(), judgedKeys: new Set(), stats };
  const noteError = (code: string) => {
    stats.formatErrors++;
    stats.formatErrorsByCode[code] = (stats.formatErrorsByCode[code] ?? 0) + 1;
  };
  for (const item of items) {
    const draws = latest.get(item.key);
    if (draws === undefined) continue;
    result.judgedKeys.add(item.key);
    stats.judgments += draws.size;
    stats.missingDraws += k - draws.size;
    if (item.mode === 'pointwise') {
      result.pointwise.set(
        item.key,
        Array.from({ length: k }, (_, d): PointwiseDraw => {
          const record = draws.get(d);
          if (record === undefined) return null;
          const parsed = parseJudgment(record.text, 'pointwise', options.parse);
          if (!parsed.ok) noteError(parsed.error);
          return parsed.ok ? parsed.score : null;
        }),
      );
    } else {
      result.pairwise.set(
        item.key,
        Array.from({ length: k }, (_, d): PairwiseDraw => {
          const record = draws.get(d);
          if (record === undefined) return null;
          const parsed = parseJudgment(record.text, 'pairwise', options.parse);
          if (!parsed.ok) noteError(parsed.error);
          // The order the judge saw is the one saved with the judgment.
          return parsed.ok ? preferred(parsed.verdict, record.order ?? item.order) : null;
        }),
      );
    }
  }
  return result;
}
