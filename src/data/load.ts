/**
 * Loading preference pairs from JSONL, JSON arrays and Parquet. The format comes from the file
 * extension (`.jsonl`/`.ndjson`, `.json`, `.parquet`) unless given.
 *
 * JSONL: one JSON object per line; blank lines are not records and are passed over; a line that
 * is not JSON is a bad row (reported with its 1-based line number). JSON: a top-level array of
 * objects (bad rows reported by 0-based index). Parquet: one row per pair (0-based row index);
 * string columns, and list<struct<role, content>> or JSON columns for message lists.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { collectPairs, type CollectOptions, type CollectedPairs, type DecodedRecord } from './collect.js';
import { PairDataError } from './errors.js';

export type PairFileFormat = 'jsonl' | 'json' | 'parquet';

export interface LoadPairsOptions extends CollectOptions {
  format?: PairFileFormat;
}

export interface LoadedPairs extends CollectedPairs {
  file: string;
  format: PairFileFormat;
}

export function pairFileFormat(path: string): PairFileFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.json') return 'json';
  if (ext === '.parquet') return 'parquet';
  throw new PairDataError({ file: path }, `cannot tell the format from extension '${ext}'; expected .jsonl, .ndjson, .json or .parquet (or pass format)`);
}

function* jsonlRecords(text: string, file: string): Generator<DecodedRecord> {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '') continue;
    const location = { file, line: i + 1 };
    try {
      yield { location, record: JSON.parse(line) as unknown };
    } catch (err) {
      const snippet = line.length > 60 ? `${line.slice(0, 60)}…` : line;
      yield { location, decodeError: `not valid JSON (${(err as Error).message}): ${JSON.stringify(snippet)}` };
    }
  }
}

function* arrayRecords(records: readonly unknown[], file: string): Generator<DecodedRecord> {
  for (const [row, record] of records.entries()) yield { location: { file, row }, record };
}

export function pairsFromJsonlText(text: string, file: string, options: CollectOptions = {}): LoadedPairs {
  return { file, format: 'jsonl', ...collectPairs(jsonlRecords(text, file), options) };
}

/** Whether text that failed to parse as one JSON value is JSON Lines: several lines, the first an object. */
function looksLikeJsonLines(text: string): boolean {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '');
  if (lines.length < 2) return false;
  try {
    const first: unknown = JSON.parse(lines[0]!);
    return typeof first === 'object' && first !== null && !Array.isArray(first);
  } catch {
    return false;
  }
}

export function pairsFromJsonText(text: string, file: string, options: CollectOptions = {}): LoadedPairs {
  let value: unknown;
  const body = text.replace(/^\uFEFF/, '');
  try {
    value = JSON.parse(body);
  } catch (err) {
    // A .jsonl file saved as .json fails at the second line with a message that says nothing of lines.
    const hint = looksLikeJsonLines(body) ? '; it looks like JSON Lines: rename to .jsonl or set data.format: jsonl' : '';
    throw new PairDataError({ file }, `not valid JSON: ${(err as Error).message}${hint}`);
  }
  if (!Array.isArray(value)) {
    const found = typeof value === 'object' && value !== null ? `an object with keys [${Object.keys(value).join(', ')}]` : typeof value;
    throw new PairDataError({ file }, `expected a JSON array of pair objects, found ${found}`);
  }
  return pairsFromRecords(value, file, options, 'json');
}

/** Pairs from records already decoded in memory (rows reported by index). */
export function pairsFromRecords(
  records: readonly unknown[],
  file: string,
  options: CollectOptions = {},
  format: PairFileFormat = 'json',
): LoadedPairs {
  return { file, format, ...collectPairs(arrayRecords(records, file), options) };
}

export async function loadParquetPairs(path: string, options: CollectOptions = {}): Promise<LoadedPairs> {
  let rows: Record<string, unknown>[];
  try {
    rows = await parquetReadObjects({ file: await asyncBufferFromFile(path) });
  } catch (err) {
    throw new PairDataError({ file: path }, `cannot read Parquet: ${(err as Error).message}`);
  }
  return pairsFromRecords(rows, path, options, 'parquet');
}

/**
 * The whole file as text. JSON and JSONL are read in one piece, so a file past V8's string limit
 * (about 512 MB; Node refuses files over 2 GB outright) fails here: that error names neither the
 * file nor a way out, so it is wrapped.
 */
function readPairText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const { code, message } = err as NodeJS.ErrnoException;
    if (code === 'ERR_STRING_TOO_LONG' || code === 'ERR_FS_FILE_TOO_LARGE' || /Cannot create a string longer than/.test(message)) {
      throw new PairDataError(
        { file: path },
        `too large to read as one string (${message}); convert it to Parquet (.parquet is read without one big string) or split it into smaller files`,
      );
    }
    throw err;
  }
}

export async function loadPairs(path: string, options: LoadPairsOptions = {}): Promise<LoadedPairs> {
  const format = options.format ?? pairFileFormat(path);
  if (format === 'parquet') return loadParquetPairs(path, options);
  const text = readPairText(path);
  return format === 'jsonl' ? pairsFromJsonlText(text, path, options) : pairsFromJsonText(text, path, options);
}
