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

/**
 * hyparquet decodes text with a lenient TextDecoder, so bytes that are not UTF-8 would load as
 * U+FFFD and train on the damaged text; the JSON path refuses them (decodeUtf8), and so does this.
 */
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });
const STRICT_TEXT_PARSERS = {
  stringFromBytes: (bytes: Uint8Array | undefined) => bytes && STRICT_UTF8.decode(bytes),
  jsonFromBytes: (bytes: Uint8Array | undefined) => bytes && (JSON.parse(STRICT_UTF8.decode(bytes)) as unknown),
};

/** A Parquet file's rows as objects, text decoded as strict UTF-8; PairDataError naming the file otherwise. */
export async function readParquetRows(path: string): Promise<Record<string, unknown>[]> {
  try {
    return await parquetReadObjects({ file: await asyncBufferFromFile(path), parsers: STRICT_TEXT_PARSERS });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_ENCODING_INVALID_ENCODED_DATA') {
      throw new PairDataError({ file: path }, 'a text column holds bytes that are not UTF-8; write the file with UTF-8 text');
    }
    throw new PairDataError({ file: path }, `cannot read Parquet: ${(err as Error).message}`);
  }
}

export async function loadParquetPairs(path: string, options: CollectOptions = {}): Promise<LoadedPairs> {
  return pairsFromRecords(await readParquetRows(path), path, options, 'parquet');
}

/**
 * A JSON or JSONL data file as text, decoded as strict UTF-8. Read in one piece, so a file past
 * V8's string limit (about 512 MB; Node refuses files over 2 GB outright) fails here: that error
 * names neither the file nor a way out, so it is wrapped, as is any other read failure.
 */
export function readDataText(path: string): string {
  try {
    return decodeUtf8(readFileSync(path), path);
  } catch (err) {
    if (err instanceof PairDataError) throw err;
    const { code, message } = err as NodeJS.ErrnoException;
    if (code === 'ERR_STRING_TOO_LONG' || code === 'ERR_FS_FILE_TOO_LARGE' || /Cannot create a string longer than/.test(message)) {
      throw new PairDataError(
        { file: path },
        `too large to read as one string (${message}); convert it to Parquet (.parquet is read without one big string) or split it into smaller files`,
      );
    }
    throw new PairDataError({ file: path }, `cannot read the data file: ${message}`);
  }
}

/**
 * Strict UTF-8: a Latin-1 or UTF-16 file would otherwise load with U+FFFD in place of its
 * characters (or fail as "not valid JSON"), and train on the damaged text.
 */
function decodeUtf8(bytes: Buffer, path: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_ENCODING_INVALID_ENCODED_DATA') throw err; // e.g. too long for one string
    const utf16 = bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff));
    const line = utf16 ? 1 : firstBadUtf8Line(bytes);
    throw new PairDataError(
      { file: path, line },
      `not UTF-8${utf16 ? ' (it starts with a UTF-16 byte-order mark)' : ''}; re-save the file as UTF-8`,
    );
  }
}

/** 1-based line of the first invalid UTF-8 sequence (a newline byte never occurs inside one). */
function firstBadUtf8Line(bytes: Buffer): number {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let start = 0;
  for (let line = 1; start <= bytes.length; line++) {
    const end = bytes.indexOf(0x0a, start);
    const stop = end < 0 ? bytes.length : end;
    try {
      decoder.decode(bytes.subarray(start, stop));
    } catch {
      return line;
    }
    start = stop + 1;
  }
  return 1;
}

export async function loadPairs(path: string, options: LoadPairsOptions = {}): Promise<LoadedPairs> {
  const format = options.format ?? pairFileFormat(path);
  if (format === 'parquet') return loadParquetPairs(path, options);
  const text = readDataText(path);
  return format === 'jsonl' ? pairsFromJsonlText(text, path, options) : pairsFromJsonText(text, path, options);
}
