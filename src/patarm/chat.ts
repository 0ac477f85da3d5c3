/**
 * A chat message as it arrives in preference data (Skywork-style message lists).
 * Roles are kept as found; rendering into the Qwen3 chat format is the
 * tokenizer layer's job (src/tokenizer/chat-template.ts).
 */
export interface ChatMessage {
  role: string;
  content: string;
}
