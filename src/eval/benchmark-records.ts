/**
 * Decoding a benchmark file into records, in the formats the public files ship in: JSONL
 * (`.jsonl`/`.ndjson`, one object per line, 1-based line numbers), JSON (`.json`, a top-level array,
 * 0-based row numbers) and Parquet (`.parquet`, 0-based row numbers). Records are not interpreted
 * here; benchmark.ts turns them into examples.
 */
import { PairDataError, pairFileFormat, readDataText, readParquetRows, type DecodedRecord, type PairFileFormat } from '../data/index.js';

export async function readBenchmarkRecords(path: string, fileFormat?: PairFileFormat): Promise<{ format: PairFileFormat; records: DecodedRecord[] }> {
  const format = fileFormat ?? pairFileFormat(path);
  if (format === 'parquet') {
    // Strict UTF-8, as the training data loader: damaged text would be judged as U+FFFD otherwise.
    const rows = await readParquetRows(path);
    return { format, records: rows.map((record, row) => ({ location: { file: path, row }, record })) };
  }
  const text = readDataText(path);
  return { format, records: format === 'jsonl' ? jsonlRecords(text, path) : jsonArrayRecords(text, path) };
}

export function jsonlRecords(text: string, file: string): DecodedRecord[] {
  const records: DecodedRecord[] = [];
  for (const [i, line] of text.replace(/^\uFEFF/, '').split(/\r?\n/).entries()) {
    if (line.trim() === '') continue;
    const location = { file, line: i + 1 };
    try {
      records.push({ location, record: JSON.parse(line) as unknown });
    } catch (err) {
      const snippet = line.length > 60 ? `${line.slice(0, 60)}…` : line;
      records.push({ location, decodeError: `not valid JSON (${(err as Error).message}): ${JSON.stringify(snippet)}` });
    }
  }
  return records;
}

export function jsonArrayRecords(text: string, file: string): DecodedRecord[] {
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    // A JSONL file saved as .json is the most common way to get here: say so.
    const hint = text.trimStart().startsWith('{') ? ' (one object per line? that is JSONL: use a .jsonl name or --data-format jsonl)' : '';
    throw new PairDataError({ file }, `not valid JSON: ${(err as Error).message}${hint}`);
  }
  if (!Array.isArray(value)) {
    const found = typeof value === 'object' && value !== null ? `an object with keys [${Object.keys(value).join(', ')}]` : typeof value;
    throw new PairDataError({ file }, `expected a JSON array of examples, found ${found}`);
  }
  return value.map((record: unknown, row) => ({ location: { file, row }, record }));
}
