import type { RecordLocation } from './types.js';

export function describeLocation(location: RecordLocation): string {
  if (location.line !== undefined) return `${location.file} line ${location.line}`;
  if (location.row !== undefined) return `${location.file} row ${location.row}`;
  return location.file;
}

/** A problem with preference data, naming the file and the line (JSONL) or row index. */
export class PairDataError extends Error {
  readonly location: RecordLocation;
  readonly reason: string;

  constructor(location: RecordLocation, reason: string) {
    super(`${describeLocation(location)}: ${reason}`);
    this.name = 'PairDataError';
    this.location = location;
    this.reason = reason;
  }
}
