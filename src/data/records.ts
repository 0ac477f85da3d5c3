/**
 * Turning one decoded record (a JSON object or a Parquet row) into a PreferencePair.
 *
 * Accepted shapes (patarm.md section 4):
 * - `{prompt, chosen, rejected}` with string values (TRL / RewardBench style);
 * - `{chosen, rejected}` as chat-message lists `[{role, content}, ...]` (Skywork style): the last
 *   message must be the assistant response, the messages before it are the prompt and must be the
 *   same on both sides. A `prompt` field is used when the lists hold only the response.
 * Mixed forms (a prompt string with message-list responses, a message-list prompt with string
 * responses) follow the same rules. Optional fields: id, task, subset, domain, ability, source.
 */
import type { ChatMessage } from '../patarm/chat.js';
import type { PairPrompt, PreferencePair } from './types.js';

/** Names of the fields in the file, when they differ from the defaults. */
export interface PairFieldNames {
  id?: string;
  prompt?: string;
  chosen?: string;
  rejected?: string;
}

export const EXPECTED_PAIR_FIELDS =
  "{prompt, chosen, rejected} as strings (TRL/RewardBench style) or {chosen, rejected} as message lists " +
  '[{role, content}] ending in the assistant response (Skywork style); optional: id, task, subset, domain, ability, source, ' +
  'and for SFT the teacher judgments chosen_judgment, rejected_judgment';

const LABEL_FIELDS = ['task', 'subset', 'domain', 'ability', 'source'] as const;
const JUDGMENT_FIELDS = [
  ['chosenJudgment', ['chosen_judgment', 'chosenJudgment']],
  ['rejectedJudgment', ['rejected_judgment', 'rejectedJudgment']],
] as const;

export type RecordOutcome = { ok: true; pair: PreferencePair } | { ok: false; reason: string };

interface ResponseSide {
  response: string;
  /** Messages before the response, or null when the side was a plain string. */
  prefix: ChatMessage[] | null;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readMessages(value: readonly unknown[], field: string): ChatMessage[] | string {
  const messages: ChatMessage[] = [];
  for (const [i, m] of value.entries()) {
    if (!isRecord(m) || typeof m['role'] !== 'string' || typeof m['content'] !== 'string') {
      return `field '${field}' message ${i} is not {role: string, content: string} (found ${
        isRecord(m) ? `keys [${Object.keys(m).join(', ')}]` : typeName(m)
      })`;
    }
    messages.push({ role: m['role'], content: m['content'] });
  }
  return messages;
}

function readResponse(value: unknown, field: string): ResponseSide | string {
  let side: ResponseSide;
  if (typeof value === 'string') {
    side = { response: value, prefix: null };
  } else if (Array.isArray(value)) {
    const messages = readMessages(value, field);
    if (typeof messages === 'string') return messages;
    const last = messages[messages.length - 1];
    if (last === undefined) return `field '${field}' is an empty message list`;
    if (last.role !== 'assistant') {
      return `the last message of '${field}' has role '${last.role}'; expected the assistant response`;
    }
    side = { response: last.content, prefix: messages.slice(0, -1) };
  } else {
    return `field '${field}' must be a string or a message list, found ${typeName(value)}`;
  }
  if (side.response.trim() === '') return `'${field}' is empty`;
  return side;
}

/** Index of the first message that differs, or -1 when the lists are equal. */
function firstDifference(a: readonly ChatMessage[], b: readonly ChatMessage[]): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i]?.role !== b[i]?.role || a[i]?.content !== b[i]?.content) return i;
  }
  return -1;
}

type PromptOutcome = { prompt: PairPrompt } | { error: string };

function readPrompt(
  promptValue: unknown,
  promptField: string,
  chosen: ResponseSide,
  rejected: ResponseSide,
): PromptOutcome {
  const cPrefix = chosen.prefix ?? [];
  const rPrefix = rejected.prefix ?? [];
  if (cPrefix.length > 0 && rPrefix.length > 0) {
    const differs = firstDifference(cPrefix, rPrefix);
    if (differs !== -1) {
      return { error: `chosen and rejected conversations differ before the final assistant message (at message ${differs})` };
    }
  }
  // The conversation prefix, when there is one, is the fuller form of the prompt (multi-turn).
  if (cPrefix.length > 0) return { prompt: cPrefix };
  if (rPrefix.length > 0) return { prompt: rPrefix };
  if (promptValue === undefined || promptValue === null) {
    return { error: `missing prompt: no '${promptField}' field and no user turns before the assistant response` };
  }
  if (typeof promptValue === 'string') {
    return promptValue.trim() === '' ? { error: `'${promptField}' is empty` } : { prompt: promptValue };
  }
  if (Array.isArray(promptValue)) {
    const messages = readMessages(promptValue, promptField);
    if (typeof messages === 'string') return { error: messages };
    return messages.length === 0 ? { error: `'${promptField}' is an empty message list` } : { prompt: messages };
  }
  return { error: `field '${promptField}' must be a string or a message list, found ${typeName(promptValue)}` };
}

function readId(value: unknown): string | undefined {
  if (typeof value === 'string' && value.trim() !== '') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return undefined;
}

export function pairFromRecord(record: unknown, defaultId: string, fields: PairFieldNames = {}): RecordOutcome {
  const idField = fields.id ?? 'id';
  const promptField = fields.prompt ?? 'prompt';
  const chosenField = fields.chosen ?? 'chosen';
  const rejectedField = fields.rejected ?? 'rejected';
  if (!isRecord(record)) {
    return { ok: false, reason: `expected an object with ${EXPECTED_PAIR_FIELDS}; found ${typeName(record)}` };
  }
  const missing = [chosenField, rejectedField].filter((f) => record[f] === undefined || record[f] === null);
  if (missing.length > 0) {
    return {
      ok: false,
      reason: `missing or null field ${missing.map((f) => `'${f}'`).join(' and ')}; expected ${EXPECTED_PAIR_FIELDS}; found fields [${Object.keys(record).join(', ')}]`,
    };
  }
  const chosen = readResponse(record[chosenField], chosenField);
  if (typeof chosen === 'string') return { ok: false, reason: chosen };
  const rejected = readResponse(record[rejectedField], rejectedField);
  if (typeof rejected === 'string') return { ok: false, reason: rejected };
  const prompt = readPrompt(record[promptField], promptField, chosen, rejected);
  if ('error' in prompt) return { ok: false, reason: prompt.error };

  const pair: PreferencePair = {
    id: readId(record[idField]) ?? defaultId,
    prompt: prompt.prompt,
    chosen: chosen.response,
    rejected: rejected.response,
  };
  for (const label of LABEL_FIELDS) {
    const value = record[label];
    if (typeof value === 'string') pair[label] = value;
  }
  // SFT data: the teacher's judgment of each side (its <answer> score gives the teacher margin).
  for (const [side, names] of JUDGMENT_FIELDS) {
    for (const name of names) {
      const value = record[name];
      if (value === undefined || value === null) continue;
      if (typeof value !== 'string' || value.trim() === '') return { ok: false, reason: `field '${name}' must be a non-empty string (a teacher judgment)` };
      pair[side] = value;
      break;
    }
  }
  return { ok: true, pair };
}
