/**
 * Layout 'row-pairs': a file of pointwise rows in which rows 2k and 2k+1 are the chosen and the
 * rejected response of pair k (the layout of the paper's released files, patarm.md section 4),
 * each row `{prompt, response}` with optional id, task labels and, for SFT, its teacher
 * `judgment`. The field names are settable (PairFieldNames) because the released files' are not
 * known. What one row holds alone (its response, judgment and task labels) is checked at that row;
 * then the two rows become one pair record that pairFromRecord checks as any other, under keys that
 * name the row (`response of line 4`), for what the rows make together (prompt, id, same responses).
 *
 * Rows pair up by their order among the file's records (a JSONL blank line is no record). A row
 * that cannot be used spoils its pair: both go, reported at the bad row. The order is the only
 * link between the two rows, so what can show that a row was lost is checked: the two rows must
 * agree on the prompt and on the task labels, and, when the file's first pair gives both rows
 * one id, every pair's rows must share theirs. A lost row between pairs of one prompt and task,
 * in a file whose ids are per row or absent, cannot be seen.
 */
import type { DecodedRecord } from './collect.js';
import { PAIR_LABEL_FIELDS, labelProblem, loneSurrogateProblem, responseProblem, type PairFieldNames } from './records.js';
import type { RecordLocation } from './types.js';

export type PairLayout = 'pairs' | 'row-pairs';
export const PAIR_LAYOUTS: readonly PairLayout[] = ['pairs', 'row-pairs'];

type RowFields = Required<Pick<PairFieldNames, 'id' | 'prompt' | 'response' | 'judgment'>>;
type Row = { location: RecordLocation; record: Record<string, unknown> };

/** What the file's first pair with an id on both rows showed: one id per pair, or one per row. */
interface IdPolicy {
  shared?: boolean;
  /** Where that was seen, for the message when a later pair breaks it. */
  seenAt?: string;
}

/** A row's place without the file name, for reasons that already sit under the file's name. */
function rowName(location: RecordLocation): string {
  return location.line !== undefined ? `line ${location.line}` : `row ${location.row ?? 0}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const absent = (value: unknown): boolean => value === undefined || value === null;

/** Equality of decoded JSON / Parquet values (key order aside). */
function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  }
  if (isRecord(a) || isRecord(b)) {
    if (!isRecord(a) || !isRecord(b)) return false;
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && sameValue(a[k], b[k]));
  }
  return a === b;
}

function quote(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}

/** Where two different values first differ, quoted so that long texts with a common start do not look alike. */
function difference(a: unknown, b: unknown): string {
  if (absent(a) || absent(b)) return `${absent(a) ? 'none' : 'one'} and ${absent(b) ? 'none' : 'one'}`;
  if (typeof a === 'string' && typeof b === 'string') {
    let i = 0;
    while (i < a.length && i < b.length && a[i] === b[i]) i++;
    const from = Math.max(0, i - 10);
    return i === 0 ? `${quote(a)} and ${quote(b)}` : `from character ${i}: ${quote(a.slice(from))} and ${quote(b.slice(from))}`;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const i = a.findIndex((x, k) => !sameValue(x, b[k]));
    return i < 0 ? `${a.length} and ${b.length} messages` : `at message ${i}`;
  }
  const show = (v: unknown) => quote(typeof v === 'string' ? v : JSON.stringify(v) ?? String(v));
  return `${show(a)} and ${show(b)}`;
}

function expectedRowFields(f: RowFields): string {
  return (
    `with layout row-pairs each row is one response: {${f.prompt}, ${f.response}} with ${f.response} a string or a message list ` +
    `ending in the assistant response; optional: ${f.id}, task, subset, domain, ability, source, and for SFT the teacher ${f.judgment}`
  );
}

/** Why a readable row cannot be one side of a pair, or null. */
function rowProblem(row: Row, f: RowFields): string | null {
  const value = row.record[f.response];
  if (value === null) return `'${f.response}' is null`;
  if (value === undefined) {
    // A whole pair per record read as rows: say which layout fits.
    const wholePair = Object.hasOwn(row.record, 'chosen') && Object.hasOwn(row.record, 'rejected');
    const hint = wholePair ? '; it holds chosen and rejected, a whole pair: read this file with layout pairs' : '';
    return `no '${f.response}' field (${expectedRowFields(f)}; found fields [${Object.keys(row.record).join(', ')}])${hint}`;
  }
  // Checked here, not only in the pair record, so that the problem is reported at this row.
  const response = responseProblem(value, f.response);
  if (response !== null) return response;
  for (const label of PAIR_LABEL_FIELDS) {
    const problem = labelProblem(label, row.record[label]);
    if (problem !== null) return problem;
  }
  const judgment = row.record[f.judgment];
  if (absent(judgment)) return null;
  if (typeof judgment !== 'string' || judgment.trim() === '') return `'${f.judgment}' must be a non-empty string (a teacher judgment)`;
  return loneSurrogateProblem(judgment, `'${f.judgment}'`);
}

/** Why a decoded record is no readable row, or null. */
function unreadable(decoded: DecodedRecord): string | null {
  if ('decodeError' in decoded) return decoded.decodeError;
  const r = decoded.record;
  return isRecord(r) ? null : `expected an object (one response of a pair), found ${Array.isArray(r) ? 'an array' : r === null ? 'null' : typeof r}`;
}

/** The pair record of two rows, or why they make no pair (filed at the row to blame). */
function combine(pair: readonly [DecodedRecord, DecodedRecord], f: RowFields, ids: IdPolicy): DecodedRecord {
  const names = `${rowName(pair[0].location)} and ${rowName(pair[1].location)}`;
  const problems = pair.map(unreadable);
  const blamed = problems.findIndex((p) => p !== null);
  if (blamed >= 0) {
    const reason =
      problems[0] !== null && problems[1] !== null
        ? `${rowName(pair[0].location)}: ${problems[0]}; ${rowName(pair[1].location)}: ${problems[1]} (the two rows of one pair)`
        : `${problems[blamed]} (its pair's other row, ${rowName(pair[1 - blamed]!.location)}, goes with it)`;
    return { location: pair[blamed]!.location, decodeError: reason };
  }
  const [chosen, rejected] = pair as readonly [Row, Row];
  for (const [i, row] of [chosen, rejected].entries()) {
    const problem = rowProblem(row, f);
    if (problem !== null) {
      return { location: row.location, decodeError: `${problem} (its pair's other row, ${rowName(pair[1 - i]!.location)}, goes with it)` };
    }
  }
  const fail = (reason: string): DecodedRecord => ({ location: chosen.location, decodeError: `${names}: ${reason}` });
  const value = (field: string): [unknown, unknown] => [chosen.record[field], rejected.record[field]];

  const [cPrompt, rPrompt] = value(f.prompt);
  if (absent(cPrompt) && absent(rPrompt) && typeof chosen.record[f.response] === 'string') {
    return fail(`no '${f.prompt}' field, and '${f.response}' is text, not a conversation that holds the prompt (${expectedRowFields(f)})`);
  }
  if (!sameValue(cPrompt ?? null, rPrompt ?? null)) {
    return fail(
      `different '${f.prompt}' (${difference(cPrompt, rPrompt)}): with layout row-pairs rows 2k and 2k+1 are the chosen and ` +
        'rejected responses to one prompt; has the file lost a row, or is it in another order?',
    );
  }
  const labels: Record<string, unknown> = {};
  for (const label of PAIR_LABEL_FIELDS) {
    const [c, r] = value(label);
    // `source` may name the model that wrote each response; a task label must be the pair's.
    if (label !== 'source' && !absent(c) && !absent(r) && !sameValue(c, r)) {
      return fail(`different '${label}' (${difference(c, r)}): the two rows of a pair judge one task`);
    }
    if (!absent(c ?? r)) labels[label] = c ?? r;
  }
  const [cId, rId] = value(f.id);
  if (!absent(cId) && !absent(rId)) {
    const same = sameValue(cId, rId);
    if (ids.shared === undefined) Object.assign(ids, { shared: same, seenAt: names });
    else if (ids.shared && !same) {
      return fail(
        `different '${f.id}' (${difference(cId, rId)}), where the file's first pair (${ids.seenAt}) gave both rows one: ` +
          'has the file lost a row, or is it in another order?',
      );
    }
  }

  const chosenKey = `${f.response} of ${rowName(chosen.location)}`;
  const rejectedKey = `${f.response} of ${rowName(rejected.location)}`;
  const record: Record<string, unknown> = { ...labels, [chosenKey]: chosen.record[f.response], [rejectedKey]: rejected.record[f.response] };
  if (!absent(cPrompt)) record[f.prompt] = cPrompt;
  if (!absent(cId ?? rId)) record[f.id] = cId ?? rId;
  const [cJudgment, rJudgment] = value(f.judgment);
  if (!absent(cJudgment)) record['chosen_judgment'] = cJudgment;
  if (!absent(rJudgment)) record['rejected_judgment'] = rJudgment;
  return {
    location: chosen.location,
    record,
    fields: { id: f.id, prompt: f.prompt, chosen: chosenKey, rejected: rejectedKey },
    fieldsFound: [...new Set([...Object.keys(chosen.record), ...Object.keys(rejected.record)])],
    reasonPrefix: `${names}: `,
    expectedFields: expectedRowFields(f),
  };
}

/** Pair records from rows in the row-pairs layout, in file order. */
export function* rowPairRecords(rows: Iterable<DecodedRecord>, fields: PairFieldNames = {}): Generator<DecodedRecord> {
  const f: RowFields = { id: fields.id ?? 'id', prompt: fields.prompt ?? 'prompt', response: fields.response ?? 'response', judgment: fields.judgment ?? 'judgment' };
  const ids: IdPolicy = {};
  let pending: DecodedRecord | null = null;
  for (const row of rows) {
    if (pending === null) {
      pending = row;
      continue;
    }
    const pair = [pending, row] as const;
    pending = null;
    yield combine(pair, f, ids);
  }
  if (pending !== null) {
    const own = unreadable(pending);
    yield {
      location: pending.location,
      decodeError:
        `${own === null ? '' : `${own}; and `}the last row has no partner: with layout row-pairs rows 2k and 2k+1 are the chosen and ` +
        'rejected responses of pair k, and this file has an odd number of rows',
    };
  }
}
