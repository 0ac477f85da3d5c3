/**
 * Layout 'row-pairs': a file of pointwise rows in which rows 2k and 2k+1 are the chosen and the
 * rejected response of pair k (the layout of the paper's released files, patarm.md section 4),
 * each row `{prompt, response}` with optional id, task labels and, for SFT, its teacher
 * `judgment`. The field names are settable (PairFieldNames) because the released files' are not
 * known. Two rows become one pair record that pairFromRecord checks as any other, under keys that
 * name the row (`response of line 4`), so its reasons say which row is wrong.
 *
 * Rows pair up by their order among the file's records (a JSONL blank line is no record). A row
 * that cannot be read spoils its pair: both go, reported once at the bad row. Since the order is
 * the only link between the two rows, rows that disagree on the prompt or on a task label are a
 * bad pair, not two answers to be matched up: such a file has lost a row or is in another order.
 */
import type { DecodedRecord } from './collect.js';
import { PAIR_LABEL_FIELDS, type PairFieldNames } from './records.js';
import type { RecordLocation } from './types.js';

export type PairLayout = 'pairs' | 'row-pairs';
export const PAIR_LAYOUTS: readonly PairLayout[] = ['pairs', 'row-pairs'];

/** A row's place without the file name, for reasons that already sit under the file's name. */
function rowName(location: RecordLocation): string {
  return location.line !== undefined ? `line ${location.line}` : `row ${location.row ?? 0}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const absent = (value: unknown): boolean => value === undefined || value === null;

/** Whether two prompt values are the same text or the same messages (key order aside). */
function samePrompt(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((m, i) => isRecord(m) && isRecord(b[i]) && m['role'] === b[i]['role'] && m['content'] === b[i]['content']);
  }
  return a === b;
}

function preview(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return JSON.stringify(text.length > 50 ? `${text.slice(0, 50)}…` : text);
}

type Row = { location: RecordLocation; record: Record<string, unknown> };

function expectedRowFields(f: Required<Pick<PairFieldNames, 'prompt' | 'response' | 'judgment' | 'id'>>): string {
  return (
    `with layout row-pairs each row is one response: {${f.prompt}, ${f.response}} with ${f.response} a string or a message list ` +
    `ending in the assistant response; optional: ${f.id}, task, subset, domain, ability, source, and for SFT the teacher ${f.judgment}`
  );
}

/** The pair record of two rows, or why they make no pair. */
function combine(chosen: Row, rejected: Row, fields: PairFieldNames): DecodedRecord {
  const f = { id: fields.id ?? 'id', prompt: fields.prompt ?? 'prompt', response: fields.response ?? 'response', judgment: fields.judgment ?? 'judgment' };
  const names = `${rowName(chosen.location)} and ${rowName(rejected.location)}`;
  const fail = (reason: string): DecodedRecord => ({ location: chosen.location, decodeError: reason });
  for (const row of [chosen, rejected]) {
    if (absent(row.record[f.response])) {
      return fail(`${rowName(row.location)} has no '${f.response}' field (${expectedRowFields(f)}; found fields [${Object.keys(row.record).join(', ')}])`);
    }
  }
  const [cPrompt, rPrompt] = [chosen.record[f.prompt], rejected.record[f.prompt]];
  if (absent(cPrompt) !== absent(rPrompt) || !samePrompt(cPrompt, rPrompt)) {
    const show = (v: unknown) => (absent(v) ? 'none' : preview(v));
    return fail(
      `${names} have different '${f.prompt}' (${show(cPrompt)} and ${show(rPrompt)}): with layout row-pairs rows 2k and 2k+1 are ` +
        `the chosen and rejected responses to one prompt; has the file lost a row, or is it in another order?`,
    );
  }
  const labels: Record<string, unknown> = {};
  for (const label of PAIR_LABEL_FIELDS) {
    const [c, r] = [chosen.record[label], rejected.record[label]];
    // `source` may name the model that wrote each response; a task label must be the pair's.
    if (label !== 'source' && !absent(c) && !absent(r) && c !== r) {
      return fail(`${names} have different '${label}' (${preview(c)} and ${preview(r)}): the two rows of a pair judge one task`);
    }
    if (!absent(c)) labels[label] = c;
  }
  const chosenKey = `${f.response} of ${rowName(chosen.location)}`;
  const rejectedKey = `${f.response} of ${rowName(rejected.location)}`;
  const record: Record<string, unknown> = { ...labels, [chosenKey]: chosen.record[f.response], [rejectedKey]: rejected.record[f.response] };
  if (!absent(cPrompt)) record[f.prompt] = cPrompt;
  if (!absent(chosen.record[f.id])) record[f.id] = chosen.record[f.id];
  for (const [row, key] of [[chosen, 'chosen_judgment'], [rejected, 'rejected_judgment']] as const) {
    const judgment = row.record[f.judgment];
    if (absent(judgment)) continue;
    if (typeof judgment !== 'string' || judgment.trim() === '') {
      return fail(`'${f.judgment}' of ${rowName(row.location)} must be a non-empty string (a teacher judgment)`);
    }
    record[key] = judgment;
  }
  return {
    location: chosen.location,
    record,
    fields: { id: f.id, prompt: f.prompt, chosen: chosenKey, rejected: rejectedKey },
    fieldsFound: [...new Set([...Object.keys(chosen.record), ...Object.keys(rejected.record)])],
  };
}

/** Pair records from rows in the row-pairs layout, in file order. */
export function* rowPairRecords(rows: Iterable<DecodedRecord>, fields: PairFieldNames = {}): Generator<DecodedRecord> {
  let pending: DecodedRecord | null = null;
  for (const row of rows) {
    if (pending === null) {
      pending = row;
      continue;
    }
    const pair: [DecodedRecord, DecodedRecord] = [pending, row];
    pending = null;
    const broken = pair.findIndex((r) => 'decodeError' in r || !isRecord(r.record));
    if (broken >= 0) {
      const bad = pair[broken]!;
      const partner = pair[1 - broken]!;
      const reason = 'decodeError' in bad ? bad.decodeError : `expected an object (one response of a pair), found ${Array.isArray(bad.record) ? 'an array' : bad.record === null ? 'null' : typeof bad.record}`;
      yield { location: bad.location, decodeError: `${reason} (its pair's other row, ${rowName(partner.location)}, goes with it)` };
      continue;
    }
    yield combine(pair[0] as Row, pair[1] as Row, fields);
  }
  if (pending !== null) {
    yield {
      location: pending.location,
      decodeError: 'the last row has no partner: with layout row-pairs rows 2k and 2k+1 are the chosen and rejected responses of pair k, and this file has an odd number of rows',
    };
  }
}
