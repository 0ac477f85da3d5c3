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
 *
 * A row is bad (reported, never repaired) when: a message is not {role, content} strings or has a
 * role other than system/user/assistant; a conversation prompt has no user turn, or only blank
 * ones; a `prompt` field and a conversation prefix are both given and disagree; chosen and
 * rejected are the same text (the pair carries no preference); the id is not a non-blank string
 * or a number (an integer beyond 2^53 must be a string); a task label (task, subset, domain,
 * ability) is not a string; a response is a string that holds a JSON-encoded message list (a serialised column).
 */
import type { ChatMessage } from '../patarm/chat.js';
import type { PairPrompt, PreferencePair } from './types.js';

/** Names of the fields in the file, when they differ from the defaults. */
export interface PairFieldNames {
  id?: string;
  prompt?: string;
  chosen?: string;
  rejected?: string;
  /** Layout 'row-pairs' only (row-pairs.ts): a row's response and its teacher judgment. */
  response?: string;
  judgment?: string;
}

/** The accepted record shapes in the field names a file uses (`fields` renames them), for reasons. */
export function expectedPairFields(f: Required<Pick<PairFieldNames, 'id' | 'prompt' | 'chosen' | 'rejected'>>): string {
  return (
    `{${f.prompt}, ${f.chosen}, ${f.rejected}} as strings (TRL/RewardBench style) or {${f.chosen}, ${f.rejected}} as message lists ` +
    `[{role, content}] ending in the assistant response (Skywork style); optional: ${f.id}, task, subset, domain, ability, source, ` +
    'and for SFT the teacher judgments chosen_judgment, rejected_judgment'
  );
}

export const EXPECTED_PAIR_FIELDS = expectedPairFields({ id: 'id', prompt: 'prompt', chosen: 'chosen', rejected: 'rejected' });

/** Labels a pair keeps as found; all but `source` name its task. */
export const PAIR_LABEL_FIELDS = ['task', 'subset', 'domain', 'ability', 'source'] as const;

/**
 * Why a label's value is unusable, or null. A task label that is a number or a list would vanish
 * and the pair fall back to the chat rubric unnoticed; `source` only informs, so one that is not a
 * string is left out.
 */
export function labelProblem(label: (typeof PAIR_LABEL_FIELDS)[number], value: unknown): string | null {
  if (value === undefined || value === null || typeof value === 'string' || label === 'source') return null;
  return `field '${label}' must be a string, found ${typeName(value)}`;
}

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

// The roles of a plain conversation (as in Qwen3's chat template). Other names (`human`, `gpt`,
// `tool`) come from other dataset conventions; the judge prompt would show them as found.
const CHAT_ROLES: ReadonlySet<string> = new Set(['system', 'user', 'assistant']);

/**
 * A lone UTF-16 surrogate (a JSON escape like "\\ud800" with no partner) is not text: the
 * tokenizer would read it as U+FFFD and train on that. In a `u` regex a proper pair is one code
 * point, so \p{Cs} matches only the lone ones.
 */
export function loneSurrogateProblem(text: string, where: string): string | null {
  const at = text.search(/\p{Cs}/u);
  if (at < 0) return null;
  return `${where} holds a lone UTF-16 surrogate (\\u${text.charCodeAt(at).toString(16)} at character ${at}), which is not text`;
}

function readMessages(value: readonly unknown[], field: string): ChatMessage[] | string {
  const messages: ChatMessage[] = [];
  for (const [i, m] of value.entries()) {
    if (!isRecord(m) || m['role'] === undefined || m['content'] === undefined) {
      return `field '${field}' message ${i} is not {role: string, content: string} (found ${
        isRecord(m) ? `keys [${Object.keys(m).join(', ')}]` : typeName(m)
      })`;
    }
    const role = m['role'];
    const content = m['content'];
    const wrongType = (key: string, v: unknown) => `field '${field}' message ${i} has '${key}' of type ${typeName(v)}; expected a string`;
    if (typeof role !== 'string') return wrongType('role', role);
    if (typeof content !== 'string') return wrongType('content', content);
    if (!CHAT_ROLES.has(role)) return `field '${field}' message ${i} has role '${role}'; expected system, user or assistant`;
    messages.push({ role, content });
  }
  return messages;
}

/** Whether a string is a JSON-encoded message list, as a serialised column would hold. */
function looksLikeEncodedMessages(text: string): boolean {
  if (!/^\s*\[\s*\{/.test(text)) return false;
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) && value.length > 0 && value.every((m) => isRecord(m) && 'role' in m && 'content' in m);
  } catch {
    return false;
  }
}

function encodedMessagesProblem(field: string): string {
  return `field '${field}' is a string holding a JSON message list; store it as a list (a JSON array, or a Parquet list or JSON column), not as text`;
}

function readResponse(value: unknown, field: string): ResponseSide | string {
  let side: ResponseSide;
  if (typeof value === 'string' && looksLikeEncodedMessages(value)) {
    // Judging the serialised JSON as if it were the response would train on the wrong text.
    return encodedMessagesProblem(field);
  }
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

/**
 * Why a value cannot be one response of a pair, or null: readResponse's checks and lone surrogates
 * in its messages. For a file that holds the two sides in different rows (row-pairs.ts), so that a
 * side's problem is found at its own row.
 */
export function responseProblem(value: unknown, field: string): string | null {
  const side = readResponse(value, field);
  if (typeof side === 'string') return side;
  const texts: [string, string][] = [
    ...(side.prefix ?? []).map((m, i): [string, string] => [`field '${field}' message ${i}`, m.content]),
    [`field '${field}'`, side.response],
  ];
  for (const [where, text] of texts) {
    const broken = loneSurrogateProblem(text, where);
    if (broken) return broken;
  }
  return null;
}

/** Index of the first message that differs, or -1 when the lists are equal. */
function firstDifference(a: readonly ChatMessage[], b: readonly ChatMessage[]): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i]?.role !== b[i]?.role || a[i]?.content !== b[i]?.content) return i;
  }
  return -1;
}

type PromptOutcome = { prompt: PairPrompt } | { error: string; absent?: true };

/** JSON-quoted text, cut at 60 characters, for quoting data in a reason. */
function quote(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);
}

/**
 * A conversation used as the prompt must ask something: at least one user turn ('no-user'), and
 * not only blank ones ('blank', which is the empty prompt of the string form).
 */
function conversationPromptProblem(messages: readonly ChatMessage[]): 'no-user' | 'blank' | null {
  const users = messages.filter((m) => m.role === 'user');
  if (users.length === 0) return 'no-user';
  return users.every((m) => m.content.trim() === '') ? 'blank' : null;
}

const rolesOf = (messages: readonly ChatMessage[]): string => `roles: ${messages.map((m) => m.role).join(', ')}`;

/** The `prompt` field's own value (text or messages; null when absent), or why it is unusable. */
function readPromptField(value: unknown, promptField: string): { given: PairPrompt | null } | { error: string } {
  if (value === undefined || value === null) return { given: null };
  if (typeof value === 'string' && looksLikeEncodedMessages(value)) return { error: encodedMessagesProblem(promptField) };
  if (typeof value === 'string') return value.trim() === '' ? { error: `'${promptField}' is empty` } : { given: value };
  if (Array.isArray(value)) {
    const messages = readMessages(value, promptField);
    if (typeof messages === 'string') return { error: messages };
    if (messages.length === 0) return { error: `'${promptField}' is an empty message list` };
    const problem = conversationPromptProblem(messages);
    if (problem === 'no-user') return { error: `'${promptField}' has no user turn (${rolesOf(messages)})` };
    return problem === 'blank' ? { error: `'${promptField}' is empty` } : { given: messages };
  }
  return { error: `field '${promptField}' must be a string or a message list, found ${typeName(value)}` };
}

/**
 * Why a `prompt` field disagrees with the conversation prefix, or null when they agree. A text
 * prompt agrees when it is the last user turn (the question the response answers; surrounding
 * whitespace aside); a message-list prompt must be the same messages.
 */
function promptDisagreement(given: PairPrompt, prefix: readonly ChatMessage[], promptField: string, what: string): string | null {
  if (typeof given === 'string') {
    const lastUser = [...prefix].reverse().find((m) => m.role === 'user')!; // conversationPromptProblem ensured one
    if (given.trim() === lastUser.content.trim()) return null;
    return `'${promptField}' ${quote(given)} disagrees with ${what}, whose last user turn is ${quote(lastUser.content)}`;
  }
  const differs = firstDifference(given, prefix);
  return differs === -1 ? null : `'${promptField}' disagrees with ${what} (at message ${differs})`;
}

function readPrompt(
  promptValue: unknown,
  fields: { prompt: string; chosen: string; rejected: string },
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
  // The prompt field is checked even next to a prefix: a wrong value there is a broken column.
  const field = readPromptField(promptValue, fields.prompt);
  if ('error' in field) return field;
  const { given } = field;
  // The conversation prefix, when there is one, is the fuller form of the prompt (multi-turn).
  const prefixSide = cPrefix.length > 0 ? fields.chosen : rPrefix.length > 0 ? fields.rejected : null;
  if (prefixSide !== null) {
    const prefix = prefixSide === fields.chosen ? cPrefix : rPrefix;
    const what = `the conversation before the assistant response in '${prefixSide}'`;
    const problem = conversationPromptProblem(prefix);
    if (problem === 'no-user') return { error: `${what} has no user turn (${rolesOf(prefix)})` };
    if (problem === 'blank') return { error: `'${fields.prompt}' is empty: every user turn in ${what} is blank` };
    // Both forms given: keeping one and dropping the other silently could train on the wrong question.
    const disagreement = given === null ? null : promptDisagreement(given, prefix, fields.prompt, what);
    return disagreement === null ? { prompt: prefix } : { error: disagreement };
  }
  if (given === null) {
    return { error: `missing prompt: no '${fields.prompt}' field and no user turns before the assistant response`, absent: true };
  }
  return { prompt: given };
}

/** The record's id as a string, undefined when absent (a generated id is used), or why it is unusable. */
function readId(value: unknown, idField: string): string | undefined | { error: string } {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') {
    return value.trim() === '' ? { error: `field '${idField}' is a blank string; expected a non-empty string or a number` } : value;
  }
  if (typeof value === 'number' && Number.isInteger(value) && !Number.isSafeInteger(value)) {
    // JSON.parse has already rounded it: 9007199254740993 arrives as ...992.
    return { error: `field '${idField}' is the integer ${String(value)}, beyond 2^53, where a JSON number loses digits; write the id as a string` };
  }
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'bigint') return String(value); // Parquet INT64 columns
  return { error: `field '${idField}' must be a string or a number, found ${typeof value === 'number' ? String(value) : typeName(value)}` };
}

export interface PairFromRecordOptions {
  keepIdenticalResponses?: boolean;
  /** What a reason says was expected, when the record was built from another shape (row-pairs.ts); default from `fields`. */
  expectedFields?: string;
}

export function pairFromRecord(record: unknown, defaultId: string, fields: PairFieldNames = {}, options: PairFromRecordOptions = {}): RecordOutcome {
  const idField = fields.id ?? 'id';
  const promptField = fields.prompt ?? 'prompt';
  const chosenField = fields.chosen ?? 'chosen';
  const rejectedField = fields.rejected ?? 'rejected';
  // Said in the names the file was read by, so that a renamed field's message points at it.
  const expected = options.expectedFields ?? expectedPairFields({ id: idField, prompt: promptField, chosen: chosenField, rejected: rejectedField });
  if (!isRecord(record)) {
    return { ok: false, reason: `expected an object with ${expected}; found ${typeName(record)}` };
  }
  const missing = [chosenField, rejectedField].filter((f) => record[f] === undefined || record[f] === null);
  if (missing.length > 0) {
    // One response per row read as whole pairs: say which layout fits.
    const responseField = fields.response ?? 'response';
    const oneResponse = missing.length === 2 && Object.hasOwn(record, responseField);
    const hint = oneResponse ? `; it holds '${responseField}', one response: files of one response per row (rows 2k and 2k+1 one pair) are read with layout row-pairs` : '';
    return {
      ok: false,
      reason: `missing or null field ${missing.map((f) => `'${f}'`).join(' and ')}; expected ${expected}; found fields [${Object.keys(record).join(', ')}]${hint}`,
    };
  }
  // A broken id column would otherwise load "fine" with generated ids.
  const id = readId(record[idField], idField);
  if (typeof id === 'object') return { ok: false, reason: id.error };
  const chosen = readResponse(record[chosenField], chosenField);
  if (typeof chosen === 'string') return { ok: false, reason: chosen };
  const rejected = readResponse(record[rejectedField], rejectedField);
  if (typeof rejected === 'string') return { ok: false, reason: rejected };
  const prompt = readPrompt(record[promptField], { prompt: promptField, chosen: chosenField, rejected: rejectedField }, chosen, rejected);
  if ('error' in prompt) {
    const fieldsHint = 'absent' in prompt ? `; expected ${expected}; found fields [${Object.keys(record).join(', ')}]` : '';
    return { ok: false, reason: prompt.error + fieldsHint };
  }
  // Identical sides carry no preference: SFT and GRPO learn nothing from them, and pointwise
  // evaluation scores them as a tie, which counts as wrong.
  if (chosen.response === rejected.response && !options.keepIdenticalResponses) {
    return { ok: false, reason: `'${chosenField}' and '${rejectedField}' are the same response` };
  }

  const pair: PreferencePair = {
    id: id ?? defaultId,
    prompt: prompt.prompt,
    chosen: chosen.response,
    rejected: rejected.response,
  };
  for (const label of PAIR_LABEL_FIELDS) {
    const value = record[label];
    const problem = labelProblem(label, value);
    if (problem !== null) return { ok: false, reason: problem };
    if (typeof value === 'string') pair[label] = value;
  }
  // SFT data: the teacher's judgment of each side (its <answer> score gives the teacher margin).
  for (const [side, names] of JUDGMENT_FIELDS) {
    for (const name of names) {
      const value = record[name];
      if (value === undefined || value === null) continue;
      if (typeof value !== 'string' || value.trim() === '') return { ok: false, reason: `field '${name}' must be a non-empty string (a teacher judgment)` };
      const broken = loneSurrogateProblem(value, `field '${name}'`);
      if (broken) return { ok: false, reason: broken };
      pair[side] = value;
      break;
    }
  }
  const texts: [string, string][] = [
    ...(typeof pair.prompt === 'string'
      ? [[`field '${promptField}'`, pair.prompt] as [string, string]]
      : pair.prompt.map((m, i): [string, string] => [`field '${promptField}' message ${i}`, m.content])),
    [`field '${chosenField}'`, pair.chosen],
    [`field '${rejectedField}'`, pair.rejected],
  ];
  for (const [field, text] of texts) {
    const broken = loneSurrogateProblem(text, field);
    if (broken) return { ok: false, reason: broken };
  }
  return { ok: true, pair };
}
