/** A problem with tokenizer files, token ids, special-token names, chat messages or prompt sizes. */
export class TokenizerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TokenizerError';
  }
}
