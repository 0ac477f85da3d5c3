// Qwen3's chat template (the Jinja `chat_template` in its tokenizer_config.json), for plain
// system/user/assistant messages without tools. Each message renders as
// `<|im_start|>{role}\n{content}<|im_end|>\n`; the generation prompt is `<|im_start|>assistant\n`,
// followed by an empty think block when thinking is disabled.
//
// Two assistant-turn rules of the real template are kept, because training text must look like
// what the model sees at inference:
// - assistant turns after the last user message get a think block in front of the answer:
//   the reasoning from `<think>...</think>` in the content, or an empty `<think>\n\n</think>\n\n`
//   for the final turn when the content has none;
// - assistant turns before the last user message lose their `<think>...</think>` reasoning.
// `rawAssistantContent: true` turns both off and renders assistant content verbatim.
import { TokenizerError } from './errors.js';

export type ChatRole = 'system' | 'user' | 'assistant';

export interface ChatMessage {
  role: ChatRole;
  content: string;
}

export interface RenderChatOptions {
  /** Append `<|im_start|>assistant\n` so the model answers next. Default true. */
  addGenerationPrompt?: boolean;
  /** Qwen3's `enable_thinking`. With false an empty `<think>\n\n</think>\n\n` follows the
   * generation prompt, so the model answers without reasoning. Default true. */
  enableThinking?: boolean;
  /** Render assistant content exactly as given (no think-block rules). Default false. */
  rawAssistantContent?: boolean;
}

export const IM_START = '<|im_start|>';
export const IM_END = '<|im_end|>';
export const EMPTY_THINK_BLOCK = '<think>\n\n</think>\n\n';

const CHAT_ROLES: ReadonlySet<string> = new Set<ChatRole>(['system', 'user', 'assistant']);

// Python's str.lstrip('\n') / rstrip('\n'), as the template uses them.
const stripLeadingNewlines = (s: string): string => s.replace(/^\n+/, '');
const stripTrailingNewlines = (s: string): string => s.replace(/\n+$/, '');

/** The template's `last_query_index`: the last user message that is not a wrapped tool result. */
function lastQueryIndex(messages: readonly ChatMessage[]): number {
  for (let i = messages.length - 1; i >= 0; i--) {
    const { role, content } = messages[i]!;
    const isToolResult = content.startsWith('<tool_response>') && content.endsWith('</tool_response>');
    if (role === 'user' && !isToolResult) return i;
  }
  return messages.length - 1;
}

/** Splits `<think>reasoning</think>answer` the way the template does. */
function splitReasoning(content: string): { reasoning: string; answer: string } {
  if (!content.includes('</think>')) return { reasoning: '', answer: content };
  const parts = content.split('</think>');
  const beforeFirstEnd = stripTrailingNewlines(parts[0]!);
  const reasoning = stripLeadingNewlines(beforeFirstEnd.split('<think>').at(-1)!);
  return { reasoning, answer: stripLeadingNewlines(parts.at(-1)!) };
}

function renderAssistantBody(content: string, index: number, isLast: boolean, lastQuery: number): string {
  const { reasoning, answer } = splitReasoning(content);
  if (index > lastQuery && (isLast || reasoning !== '')) {
    // The template strips leading newlines here again (`content.lstrip('\n')`): an answer without
    // `</think>` was not stripped by splitReasoning, and would otherwise follow the block's `\n\n`.
    return `<think>\n${stripTrailingNewlines(stripLeadingNewlines(reasoning))}\n</think>\n\n${stripLeadingNewlines(answer)}`;
  }
  return answer;
}

function checkMessages(messages: readonly ChatMessage[]): void {
  if (messages.length === 0) throw new TokenizerError('renderChat: no messages');
  messages.forEach((message, i) => {
    if (!CHAT_ROLES.has(message?.role)) {
      throw new TokenizerError(`renderChat: message ${i} has role '${message?.role}'; expected system, user or assistant`);
    }
    if (typeof message.content !== 'string') {
      throw new TokenizerError(`renderChat: message ${i} (${message.role}) has no string content`);
    }
  });
}

/**
 * What Qwen3's template writes after the generation prompt for a final assistant turn holding
 * `content`, up to its `<|im_end|>`: an SFT target in chat mode must be this, so that the model
 * learns the text it writes at inference. With thinking on the turn opens with the think block
 * (`<think>\n{reasoning}\n</think>\n\n`, empty when the content has none); with thinking off the
 * generation prompt already holds the empty block, so the turn is the answer alone, and content
 * that reasons in a think block is refused (it would teach a model with thinking off to reason).
 */
export function assistantTurnAfterGenerationPrompt(content: string, enableThinking: boolean): string {
  const body = renderAssistantBody(content, 1, true, 0); // the last turn, after the last user message
  if (enableThinking) return body;
  if (!body.startsWith(EMPTY_THINK_BLOCK)) {
    throw new TokenizerError('thinking is off, but the assistant turn reasons in a <think> block; the template would train it after an empty one');
  }
  return body.slice(EMPTY_THINK_BLOCK.length);
}

/** The prompt text for `messages`, as Qwen3's `apply_chat_template(..., tokenize=False)`. */
export function renderChat(messages: readonly ChatMessage[], options: RenderChatOptions = {}): string {
  const { addGenerationPrompt = true, enableThinking = true, rawAssistantContent = false } = options;
  checkMessages(messages);
  const lastQuery = lastQueryIndex(messages);
  let text = '';
  messages.forEach(({ role, content }, i) => {
    const body =
      role === 'assistant' && !rawAssistantContent
        ? renderAssistantBody(content, i, i === messages.length - 1, lastQuery)
        : content;
    text += `${IM_START}${role}\n${body}${IM_END}\n`;
  });
  if (addGenerationPrompt) {
    text += `${IM_START}assistant\n`;
    if (!enableThinking) text += EMPTY_THINK_BLOCK;
  }
  return text;
}
