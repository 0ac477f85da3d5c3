/**
 * PaTaRM input templates (patarm.md section 3). The raw tagged text is what the model card feeds;
 * wrapping it as the user turn of the Qwen3 chat template is an option.
 *
 * All untrusted text (prompt, responses, rubric) passes through `neutraliseTemplateTags`, so the
 * only well-formed template tags in the result are the ones written here.
 */
import { renderChat } from '../tokenizer/chat-template.js';
import type { ChatMessage } from './chat.js';
import { rubricForTask } from './rubrics.js';
import { neutraliseTemplateTags } from './sanitize.js';
import { TASK_TYPES, isTaskType, type TaskType } from './tasks.js';

/** A user prompt: plain text, or a conversation whose last turns lead up to the judged response. */
export type Prompt = string | readonly ChatMessage[];

export interface PointwiseInput {
  task: TaskType;
  prompt: Prompt;
  response: string;
  /** Replaces the task's primary rubric. */
  rubric?: string;
}

export interface PairwiseInput {
  task: TaskType;
  prompt: Prompt;
  responseA: string;
  responseB: string;
  rubric?: string;
}

export interface TemplateRenderOptions {
  /** Wrap the tagged text as the single user turn of the Qwen3 chat template, followed by the
   * generation prompt. Absent or false: the raw tagged text (model card layout). */
  chatTemplate?: false | { enableThinking: boolean };
}

/**
 * A conversation rendered readably for the `<prompt>` block: one `[role]: content` entry per
 * message, separated by a blank line. A conversation of one user message renders as its bare
 * content, so a Skywork-style single-turn prompt looks exactly like the same prompt given as a string.
 */
export function promptToText(prompt: Prompt): string {
  if (typeof prompt === 'string') return prompt;
  if (prompt.length === 1 && prompt[0]!.role === 'user') return prompt[0]!.content;
  return prompt.map((m) => `[${m.role}]: ${m.content}`).join('\n\n');
}

function block(tag: string, untrusted: string): string {
  return `<${tag}>\n${neutraliseTemplateTags(untrusted)}\n</${tag}>`;
}

function header(task: TaskType, rubric: string | undefined): string {
  if (!isTaskType(task)) throw new Error(`unknown task '${String(task)}'; expected one of ${TASK_TYPES.join(', ')}`);
  return `<task>${task}</task>\n${block('rubrics', rubric ?? rubricForTask(task))}`;
}

function finish(tagged: string, options: TemplateRenderOptions): string {
  if (!options.chatTemplate) return tagged;
  return renderChat([{ role: 'user', content: tagged }], {
    addGenerationPrompt: true,
    enableThinking: options.chatTemplate.enableThinking,
  });
}

export function renderPointwise(input: PointwiseInput, options: TemplateRenderOptions = {}): string {
  const tagged = [
    header(input.task, input.rubric),
    block('prompt', promptToText(input.prompt)),
    block('response', input.response),
  ].join('\n');
  return finish(tagged, options);
}

export function renderPairwise(input: PairwiseInput, options: TemplateRenderOptions = {}): string {
  const tagged = [
    header(input.task, input.rubric),
    block('prompt', promptToText(input.prompt)),
    block('responseA', input.responseA),
    block('responseB', input.responseB),
  ].join('\n');
  return finish(tagged, options);
}
