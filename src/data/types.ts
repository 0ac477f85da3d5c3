/** Shapes of preference data after loading. */
import type { ChatMessage } from '../patarm/chat.js';

export type PairSide = 'chosen' | 'rejected';

/** A prompt as text, or the conversation that precedes the judged response. */
export type PairPrompt = string | ChatMessage[];

export interface PreferencePair {
  /** From the record's id field, else generated as `{file name}:{line or row}`. */
  id: string;
  prompt: PairPrompt;
  chosen: string;
  rejected: string;
  /** Optional labels kept as found (see patarm/tasks.ts for turning them into a task). */
  task?: string;
  subset?: string;
  domain?: string;
  ability?: string;
  source?: string;
  /** SFT data: the teacher's judgment text of the chosen / rejected response (ends in <answer>score</answer>). */
  chosenJudgment?: string;
  rejectedJudgment?: string;
}

/** One pointwise row: a (prompt, response) to judge, tied to its pair. */
export interface PointwiseRow {
  pairId: string;
  side: PairSide;
  prompt: PairPrompt;
  response: string;
  task?: string;
  subset?: string;
  domain?: string;
  ability?: string;
  source?: string;
}

export type BadRowPolicy = 'error' | 'skip';

/** Where a record sits in its file: `line` (1-based) for JSONL, `row` (0-based index) otherwise. */
export interface RecordLocation {
  file: string;
  line?: number;
  row?: number;
}

export interface SkippedRecord {
  location: RecordLocation;
  /** e.g. `data.jsonl line 4` */
  where: string;
  reason: string;
}
