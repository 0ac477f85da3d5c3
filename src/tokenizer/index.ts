export * from './errors.js';
export * from './tokenizer.js';
export * from './stream-decoder.js';
export * from './chat-template.js';
export * from './prompt-checks.js';
export type { AddedTokenInfo, TokenizerFiles } from './tokenizer-files.js';
