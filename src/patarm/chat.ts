/**
 * The Qwen3 chat template (text form), as the tokenizer's Jinja template renders it for plain
 * messages: `<|im_start|>{role}\n{content}<|im_end|>\n` per message, then the generation prompt
 * `<|im_start|>assistant\n`, plus an empty think block when thinking is disabled.
 *
 * Deliberately minimal: no tools, and earlier assistant turns are rendered verbatim (the Jinja
 * template strips their reasoning; callers that need that should pass content without it).
 */

export interface ChatMessage {
  role: string;
  content: string;
}

export interface ChatRenderOptions {
  /** Append `<|im_start|>assistant\n` so the model continues as the assistant (HF default: false). */
  addGenerationPrompt?: boolean;
  /** Qwen3's `enable_thinking` (HF default: true). With false the generation prompt is followed by
   * an empty `<think>\n\n</think>\n\n`, so the model answers without reasoning. */
  enableThinking?: boolean;
}

export const IM_START = '<|im_start|>';
export const IM_END = '<|im_end|>';
export const END_OF_TEXT = '<|endoftext|>';
export const EMPTY_THINK_BLOCK = '<think>\n\n</think>\n\n';

export function renderChat(messages: readonly ChatMessage[], options: ChatRenderOptions = {}): string {
  const addGenerationPrompt = options.addGenerationPrompt ?? false;
  const enableThinking = options.enableThinking ?? true;
  let text = '';
  for (const message of messages) {
    text += `${IM_START}${message.role}\n${message.content}${IM_END}\n`;
  }
  if (addGenerationPrompt) {
    text += `${IM_START}assistant\n`;
    if (!enableThinking) text += EMPTY_THINK_BLOCK;
  }
  return text;
}
