// Checks on a tokenized prompt before it goes to the model, so a bad prompt fails with the
// numbers that explain it instead of as an out-of-range position deep inside a kernel.
import { TokenizerError } from './errors.js';

export interface PromptLengthOptions {
  /** Positions that must stay free after the prompt, e.g. 1 so at least one token can be
   * generated. Default 0. */
  reservedTokens?: number;
  /** What the ids are, for the message. Default 'prompt'. */
  label?: string;
}

/** Throws unless `1 <= ids.length <= contextLength - reservedTokens`. */
export function checkPromptLength(
  ids: ArrayLike<number>,
  contextLength: number,
  options: PromptLengthOptions = {},
): void {
  const { reservedTokens = 0, label = 'prompt' } = options;
  if (!Number.isInteger(contextLength) || contextLength <= 0) {
    throw new TokenizerError(`context length must be a positive integer, got ${contextLength}`);
  }
  if (!Number.isInteger(reservedTokens) || reservedTokens < 0) {
    throw new TokenizerError(`reservedTokens must be a non-negative integer, got ${reservedTokens}`);
  }
  if (ids.length === 0) throw new TokenizerError(`${label} is empty (0 tokens)`);
  const limit = contextLength - reservedTokens;
  if (ids.length > limit) {
    const reserve = reservedTokens > 0 ? ` minus ${reservedTokens} reserved = ${limit}` : '';
    throw new TokenizerError(
      `${label} is ${ids.length} tokens, longer than the model context of ${contextLength} tokens${reserve}`,
    );
  }
}
