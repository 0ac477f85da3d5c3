// The engine's tokenizer: Hugging Face's native `tokenizers` binding for encoding (so ids match
// the reference implementation exactly), plus the special-token ids the chat format and the
// generation loop need, looked up by name from the loaded file rather than hard-coded.
import type { Decoder as NativeDecoder, Tokenizer as NativeTokenizer } from 'tokenizers';
import { byteLevelTokenBytes } from './byte-level.js';
import { TokenizerError } from './errors.js';
import { readTokenizerFiles, type AddedTokenInfo, type TokenizerFiles } from './tokenizer-files.js';

export interface EncodeOptions {
  /** Let the tokenizer's post-processor add its special tokens (none for Qwen3). Default false. */
  addSpecialTokens?: boolean;
}

export interface DecodeOptions {
  /** Drop tokens flagged `special` in tokenizer.json (for Qwen3: `<|im_end|>` etc., not `<think>`). */
  skipSpecialTokens?: boolean;
  /**
   * An id outside the tokenizer's vocabulary: 'error' (default) or 'replace' with U+FFFD. A model
   * can sample one (Qwen3's embedding has 267 padding rows past the tokenizer's ids); a judgment
   * holding it is then a text to parse like any other, not a crash of the step that sampled it.
   */
  outOfVocabulary?: 'error' | 'replace';
}

export class Tokenizer {
  /** The tokenizer.json this was loaded from; named in every error message. */
  readonly path: string;
  /** Number of token ids, added tokens included (151669 for Qwen3; the model's embedding has
   * more rows, 151936, which are padding and never produced by the tokenizer). */
  readonly vocabSize: number;
  readonly imStart: number;
  readonly imEnd: number;
  readonly endOfText: number;
  /** `<think>` / `</think>`, when the tokenizer has them. */
  readonly thinkStart: number | undefined;
  readonly thinkEnd: number | undefined;
  /** tokenizer_config.json's `eos_token` (Qwen3: `<|im_end|>`), else `<|im_end|>`. */
  readonly eosId: number;
  /** tokenizer_config.json's `pad_token` (Qwen3: `<|endoftext|>`), else `<|endoftext|>`. */
  readonly padId: number;
  /** Generation ends at any of these: `<|im_end|>` (end of the assistant turn), `<|endoftext|>`. */
  readonly stopIds: readonly number[];
  /** Whether `tokenBytes` (and so StreamDecoder) works: the decoder is plain byte-level BPE. */
  readonly isByteLevel: boolean;

  private readonly native: NativeTokenizer;
  private readonly nativeDecoder: NativeDecoder | null;
  private readonly addedTokens: readonly AddedTokenInfo[];
  private readonly specialIds: ReadonlySet<number>;
  private readonly controlIds: ReadonlySet<number>;

  constructor(native: NativeTokenizer, files: TokenizerFiles) {
    this.native = native;
    this.nativeDecoder = native.getDecoder();
    this.path = files.tokenizerPath;
    this.vocabSize = files.idLimit;
    this.addedTokens = files.addedTokens;
    this.specialIds = new Set(files.addedTokens.filter((t) => t.special).map((t) => t.id));
    this.controlIds = new Set(files.addedTokens.filter((t) => /^<\|.*\|>$/s.test(t.content)).map((t) => t.id));
    this.isByteLevel = files.decoderType === 'ByteLevel';
    this.checkAddedTokenIds();

    this.imStart = this.tokenId('<|im_start|>');
    this.imEnd = this.tokenId('<|im_end|>');
    this.endOfText = this.tokenId('<|endoftext|>');
    this.thinkStart = native.tokenToId('<think>') ?? undefined;
    this.thinkEnd = native.tokenToId('</think>') ?? undefined;
    this.eosId = this.configuredTokenId(files, 'eos_token', files.eosTokenName) ?? this.imEnd;
    this.padId = this.configuredTokenId(files, 'pad_token', files.padTokenName) ?? this.endOfText;
    this.stopIds = Object.freeze([this.imEnd, this.endOfText]);
  }

  /** The id of one token by its exact text, e.g. `tokenId('<|im_end|>')`. */
  tokenId(name: string): number {
    const id = this.native.tokenToId(name);
    if (id === null || id === undefined) {
      const known = this.addedTokens.map((t) => t.content).join(', ');
      throw new TokenizerError(`unknown special token '${name}' in ${this.path}; known: ${known}`);
    }
    return id;
  }

  /** Whether `decode(..., { skipSpecialTokens: true })` drops this id. */
  isSpecial(id: number): boolean {
    return this.specialIds.has(id);
  }

  /**
   * Whether `id` is a control token: a special one, or an added token spelt `<|...|>`, as Qwen3's
   * `<|fim_prefix|>` or `<|file_sep|>`, which its tokenizer.json does not mark special. (Added
   * tokens such as `<think>` or the judge template's tags are text a judgment may hold.)
   */
  isControlToken(id: number): boolean {
    return this.specialIds.has(id) || this.controlIds.has(id);
  }

  /**
   * Token ids for `text`. Special-token text inside it (e.g. `<|im_end|>` from a rendered chat)
   * becomes the special id. The native binding only encodes asynchronously, hence the Promise.
   */
  async encode(text: string, options: EncodeOptions = {}): Promise<Int32Array> {
    if (typeof text !== 'string') {
      throw new TokenizerError(`encode expects a string, got ${typeof text} (tokenizer ${this.path})`);
    }
    const encoding = await this.native.encode(text, null, { addSpecialTokens: options.addSpecialTokens ?? false });
    return Int32Array.from(encoding.getIds());
  }

  /**
   * Text for `ids`. Invalid UTF-8 (e.g. a cut-off multi-byte character) becomes U+FFFD, as in
   * Hugging Face. Unlike the native binding, which silently drops unknown ids, an id outside the
   * vocabulary (such as a padding row of the embedding) is an error.
   */
  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    if (options.outOfVocabulary === 'replace') {
      // The runs of known ids decode as usual; each unknown id between them becomes U+FFFD.
      const strict = { skipSpecialTokens: options.skipSpecialTokens };
      let text = '';
      let start = 0;
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i]!;
        if (Number.isInteger(id) && id >= 0 && id < this.vocabSize) continue;
        text += this.decode(Array.prototype.slice.call(ids, start, i) as number[], strict) + '\uFFFD';
        start = i + 1;
      }
      return text + this.decode(Array.prototype.slice.call(ids, start) as number[], strict);
    }
    const tokens: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (options.skipSpecialTokens && this.specialIds.has(id)) continue;
      tokens.push(this.tokenText(id));
    }
    // Same steps as the Rust `decode`: ids -> token strings -> the tokenizer's decoder.
    return this.nativeDecoder ? this.nativeDecoder.decode(tokens) : tokens.join(' ');
  }

  /** The raw bytes one token stands for; needs a byte-level tokenizer (see `isByteLevel`). */
  tokenBytes(id: number): Uint8Array {
    if (!this.isByteLevel) {
      throw new TokenizerError(`${this.path}: token bytes need a ByteLevel decoder`);
    }
    return byteLevelTokenBytes(this.tokenText(id));
  }

  /** The vocabulary string of one id (byte-level alphabet, e.g. 'Ġworld'). */
  tokenText(id: number): string {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
      throw new TokenizerError(`token id ${id} is outside the vocabulary [0, ${this.vocabSize}) of ${this.path}`);
    }
    const token = this.native.idToToken(id);
    if (token === null || token === undefined) {
      throw new TokenizerError(`token id ${id} has no token in ${this.path}`);
    }
    return token;
  }

  // The binding numbers added tokens by their order in the file and ignores their "id" field;
  // the special-token set and vocabSize come from those fields, so they must agree.
  private checkAddedTokenIds(): void {
    for (const { id, content } of this.addedTokens) {
      const nativeId = this.native.tokenToId(content);
      if (nativeId !== id) {
        throw new TokenizerError(
          `${this.path}: added token '${content}' has id ${id} in the file but ${nativeId} when loaded ` +
            '(added_tokens must be listed in id order)',
        );
      }
    }
  }

  private configuredTokenId(files: TokenizerFiles, key: string, name: string | undefined): number | undefined {
    if (name === undefined) return undefined;
    const id = this.native.tokenToId(name);
    if (id === null || id === undefined) {
      throw new TokenizerError(`${files.configPath}: ${key} '${name}' is not a token of ${this.path}`);
    }
    return id;
  }
}

/**
 * Loads a tokenizer from a model folder (its `tokenizer.json`, plus `tokenizer_config.json` when
 * present) or from a tokenizer.json path. Takes about half a second for Qwen3's 11 MB file.
 */
export async function loadTokenizer(dirOrFile: string): Promise<Tokenizer> {
  const files = await readTokenizerFiles(dirOrFile);
  // Imported here so that code using only the chat template never loads the native addon.
  const { Tokenizer: NativeTokenizerClass } = await import('tokenizers');
  let native: NativeTokenizer;
  try {
    native = NativeTokenizerClass.fromString(files.tokenizerText);
  } catch (error) {
    throw new TokenizerError(`cannot load ${files.tokenizerPath} as a tokenizer: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return new Tokenizer(native, files);
}
