/**
 * The shared path of every loader: records (or their decode errors) in file order -> pairs, with
 * the bad-row policy and the duplicate-id check applied. In skip mode every dropped record is
 * listed with its location and reason; nothing is dropped silently.
 */
import { basename } from 'node:path';
import { PairDataError, describeLocation } from './errors.js';
import { pairFromRecord, type PairFieldNames } from './records.js';
import { rowPairRecords, type PairLayout } from './row-pairs.js';
import type { BadRowPolicy, PreferencePair, RecordLocation, SkippedRecord } from './types.js';

export interface CollectOptions {
  onBadRow?: BadRowPolicy;
  fields?: PairFieldNames;
  /** 'pairs' (default): one record per pair. 'row-pairs': records 2k and 2k+1 are pair k's chosen and rejected rows (row-pairs.ts). */
  layout?: PairLayout;
  /**
   * Keep a pair whose chosen and rejected responses are the same text (default false: a bad row,
   * since it carries no preference to train on). A benchmark keeps it, to be scored as its
   * authors score it (a tie, which counts as wrong).
   */
  keepIdenticalResponses?: boolean;
}

/**
 * One record as decoded from the file, or the reason it could not be decoded. A record built from
 * rows (row-pairs.ts) carries the field names to read it by, the fields its rows had, and what its
 * rows were expected to hold.
 */
export type DecodedRecord =
  | { location: RecordLocation; record: unknown; fields?: PairFieldNames; fieldsFound?: readonly string[]; reasonPrefix?: string; expectedFields?: string }
  | { location: RecordLocation; decodeError: string };

export interface CollectedPairs {
  pairs: PreferencePair[];
  skipped: SkippedRecord[];
  /** Every top-level field name seen, in order of first appearance. */
  fieldsFound: string[];
}

function generatedId(location: RecordLocation): string {
  const name = basename(location.file);
  return location.line !== undefined ? `${name}:${location.line}` : `${name}:${location.row ?? 0}`;
}

export function collectPairs(records: Iterable<DecodedRecord>, options: CollectOptions = {}): CollectedPairs {
  const policy = options.onBadRow ?? 'error';
  const pairs: PreferencePair[] = [];
  const skipped: SkippedRecord[] = [];
  const fieldsFound = new Set<string>();
  const firstSeen = new Map<string, RecordLocation>();

  const bad = (location: RecordLocation, reason: string): void => {
    if (policy === 'error') throw new PairDataError(location, reason);
    skipped.push({ location, where: describeLocation(location), reason });
  };

  const input = options.layout === 'row-pairs' ? rowPairRecords(records, options.fields) : records;
  for (const decoded of input) {
    const { location } = decoded;
    if ('decodeError' in decoded) {
      bad(location, decoded.decodeError);
      continue;
    }
    const { record } = decoded;
    if (decoded.fieldsFound) for (const key of decoded.fieldsFound) fieldsFound.add(key);
    else if (typeof record === 'object' && record !== null && !Array.isArray(record)) {
      for (const key of Object.keys(record)) fieldsFound.add(key);
    }
    const outcome = pairFromRecord(record, generatedId(location), decoded.fields ?? options.fields, {
      keepIdenticalResponses: options.keepIdenticalResponses,
      expectedFields: decoded.expectedFields,
    });
    if (!outcome.ok) {
      bad(location, (decoded.reasonPrefix ?? '') + outcome.reason);
      continue;
    }
    const earlier = firstSeen.get(outcome.pair.id);
    if (earlier !== undefined) {
      bad(location, `duplicate pair id '${outcome.pair.id}' (first seen at ${describeLocation(earlier)})`);
      continue;
    }
    firstSeen.set(outcome.pair.id, location);
    pairs.push(outcome.pair);
  }
  return { pairs, skipped, fieldsFound: [...fieldsFound] };
}
