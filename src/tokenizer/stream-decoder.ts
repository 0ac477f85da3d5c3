// Turning generated ids into text one token at a time. A byte-level token can end in the middle
// of a UTF-8 character (an emoji is often split over 2-3 tokens), so decoding each token on its
// own would print U+FFFD. Working on bytes and letting a streaming UTF-8 decoder hold back an
// incomplete tail gives, concatenated, exactly what `Tokenizer.decode` gives for all the ids.
import { TokenizerError } from './errors.js';
import type { Tokenizer } from './tokenizer.js';

export interface StreamDecoderOptions {
  /** Emit nothing for tokens flagged special (as `decode(..., { skipSpecialTokens: true })`). */
  skipSpecialTokens?: boolean;
  /** 'replace': an id past the tokenizer's (an embedding padding row) gives U+FFFD, as in
   * `decode(..., { outOfVocabulary: 'replace' })`; default 'error'. */
  outOfVocabulary?: 'error' | 'replace';
}

export class StreamDecoder {
  private readonly tokenizer: Tokenizer;
  private readonly skipSpecialTokens: boolean;
  private readonly replaceUnknown: boolean;
  // ignoreBOM: keep a generated U+FEFF instead of swallowing it at the start (Rust keeps it).
  private utf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

  constructor(tokenizer: Tokenizer, options: StreamDecoderOptions = {}) {
    if (!tokenizer.isByteLevel) {
      throw new TokenizerError(`StreamDecoder needs a byte-level tokenizer; ${tokenizer.path} is not one`);
    }
    this.tokenizer = tokenizer;
    this.skipSpecialTokens = options.skipSpecialTokens ?? false;
    this.replaceUnknown = options.outOfVocabulary === 'replace';
  }

  /**
   * Adds one id; returns the text completed by it (possibly ''). Bytes of a character that is
   * not finished yet are kept until a later token completes it; bytes that can never form a
   * valid character come out as U+FFFD right away.
   */
  push(id: number): string {
    // decode's 'replace' decodes the known runs on each side apart: an unfinished character before it ends too.
    if (this.replaceUnknown && !(Number.isInteger(id) && id >= 0 && id < this.tokenizer.vocabSize)) return this.flush() + '\uFFFD';
    if (this.skipSpecialTokens && this.tokenizer.isSpecial(id)) return '';
    return this.utf8.decode(this.tokenizer.tokenBytes(id), { stream: true });
  }

  /** Ends the stream: returns what is still held back (an unfinished character becomes U+FFFD)
   * and starts afresh. */
  flush(): string {
    const rest = this.utf8.decode();
    this.utf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
    return rest;
  }
}
