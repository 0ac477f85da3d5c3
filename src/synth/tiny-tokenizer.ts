/**
 * The tiny tokenizer of the default job: byte-level BPE with exactly 384 ids (the vocabulary of
 * the test fixture model test/fixtures/qwen3-tiny), trained on the synthetic family's own text.
 *
 * Layout of the ids:
 *   0-255    the 256 bytes in the byte-level alphabet, in byte order, so any text encodes and
 *            decodes losslessly (no unknown token, no dropped character);
 *   256-368  the first 113 merges the BPE trainer learns from the corpus;
 *   369-383  the added tokens: Qwen3's special tokens, then `<think>`/`</think>` and the template
 *            tags, each one token so that the tagged layout costs one id per tag.
 * Pre-tokenizer: the family's template words (with an optional leading space) are whole pieces;
 * every other ASCII letter and every digit is a piece of its own (numbers digit by digit, as
 * Qwen3); the runs of spaces and punctuation between them are pieces too; then the byte-level
 * mapping. So merges only ever build template words and punctuation runs, and the content a judge
 * reads and compares is spelt one character per token.
 *
 * How it is trained: the Node binding of `tokenizers` has no trainer options (its `train` uses
 * the model's default BpeTrainer: 30000 ids, no byte alphabet) and does not extract added tokens
 * from training text. So the corpus is cut at the added tokens and pre-tokenized here with the
 * final pre-tokenizer's pattern (the same regex, run by JavaScript); the trainer learns merges over those byte-level pieces (split on spaces,
 * which byte-level pieces never contain); the merge list is cut where the 113th new token
 * appears. BPE training is greedy, so that prefix is what a trainer stopping at 384 ids would
 * have produced. The tokenizer.json is then written here (the binding cannot create a ByteLevel
 * decoder) and checked by loading it with the binding.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { writeFileAtomically } from '../io/atomic.js';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SYNTH_KINDS } from './tasks.js';
import { templateSplitPattern, templateWords } from './template-words.js';
import { tokenizerCorpus, type TokenizerCorpusOptions } from './tokenizer-corpus.js';

export const TINY_VOCAB_SIZE = 384;

/** Special (skipped by `decode(..., skipSpecialTokens)`), as in Qwen3. */
export const TINY_SPECIAL_TOKENS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'] as const;
/** Not special, so decoding keeps them: they are part of the text the model writes and reads. */
export const TINY_TAG_TOKENS = [
  '<think>',
  '</think>',
  '<task>',
  '</task>',
  '<rubrics>',
  '</rubrics>',
  '<prompt>',
  '</prompt>',
  '<response>',
  '</response>',
  '<answer>',
  '</answer>',
] as const;

export const TINY_EOS_TOKEN = '<|im_end|>';
export const TINY_PAD_TOKEN = '<|endoftext|>';

const ADDED_TOKENS: readonly string[] = [...TINY_SPECIAL_TOKENS, ...TINY_TAG_TOKENS];
const BYTE_ALPHABET_SIZE = 256;
export const TINY_MERGE_COUNT = TINY_VOCAB_SIZE - BYTE_ALPHABET_SIZE - ADDED_TOKENS.length;

/** Template words whole, every other letter and digit alone (template-words.ts says why). */
export const TINY_SPLIT_PATTERN = templateSplitPattern(templateWords(SYNTH_KINDS));
const PRE_TOKENIZER = {
  type: 'Sequence',
  pretokenizers: [
    { type: 'Split', pattern: { Regex: TINY_SPLIT_PATTERN }, behavior: 'Isolated', invert: false },
    { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
  ],
};
/** Qwen3's decoder and post-processor settings. */
const BYTE_LEVEL_PLAIN = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false };

/** The folder holding package.json, found by walking up (this file runs from src/ and dist/src/). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('packageRoot: no package.json above the synth module');
    dir = parent;
  }
  return dir;
}

export function tinyTokenizerDir(): string {
  return join(packageRoot(), 'models', 'tiny-tokenizer');
}

/** GPT-2's byte -> printable character table (the byte-level alphabet), indexed by byte. */
function byteAlphabet(): string[] {
  const printable = (b: number): boolean => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let nextShifted = 0x100;
  return Array.from({ length: BYTE_ALPHABET_SIZE }, (_, b) => String.fromCodePoint(printable(b) ? b : nextShifted++));
}

/** The text between added tokens, as the tokenizer sees it at encode time. */
function segmentsBetweenAddedTokens(text: string): string[] {
  const escaped = [...ADDED_TOKENS].sort((a, b) => b.length - a.length).map((t) => t.replace(/[|\\/<>]/g, '\\$&'));
  return text.split(new RegExp(escaped.join('|'))).filter((s) => s !== '');
}

type Merge = [string, string];

/** A text's pieces as the final pre-tokenizer makes them: split at the pattern, bytes mapped to the alphabet. */
function preTokenize(text: string, alphabet: readonly string[]): string[] {
  const split = new RegExp(TINY_SPLIT_PATTERN, 'g');
  const pieces: string[] = [];
  let last = 0;
  for (const m of text.matchAll(split)) {
    if (m.index > last) pieces.push(text.slice(last, m.index));
    pieces.push(m[0]);
    last = m.index + m[0].length;
  }
  if (last < text.length) pieces.push(text.slice(last));
  const utf8 = new TextEncoder();
  return pieces.map((piece) => [...utf8.encode(piece)].map((b) => alphabet[b]!).join(''));
}

async function trainMerges(corpus: readonly string[], scratch: string): Promise<Merge[]> {
  const native = await import('tokenizers');
  const alphabet = byteAlphabet();
  // Pieces never hold a literal space (the alphabet maps it to 'Ġ'), so the trainer can split on spaces.
  const lines = corpus.flatMap(segmentsBetweenAddedTokens).map((segment) => preTokenize(segment, alphabet).join(' '));
  const corpusPath = join(scratch, 'pieces.txt');
  await writeFile(corpusPath, `${lines.join('\n')}\n`);
  const trainer = new native.Tokenizer(native.BPE.empty());
  trainer.setPreTokenizer(native.whitespaceSplitPreTokenizer());
  trainer.train([corpusPath]);
  const trainedPath = join(scratch, 'trained.json');
  trainer.save(trainedPath, false);
  const trained = JSON.parse(await readFile(trainedPath, 'utf8')) as { model: { merges: (Merge | string)[] } };
  // Older releases save merges as "a b" strings; byte-level pieces never contain a space.
  return trained.model.merges.map((m) => (typeof m === 'string' ? (m.split(' ') as Merge) : m));
}

/** The byte alphabet plus the merges up to the one that would need id TINY_MERGE_COUNT + 256. */
function vocabularyFromMerges(merges: readonly Merge[]): { vocab: Record<string, number>; merges: Merge[] } {
  const ids = new Map<string, number>(byteAlphabet().map((c, i) => [c, i]));
  const kept: Merge[] = [];
  const limit = BYTE_ALPHABET_SIZE + TINY_MERGE_COUNT;
  for (const [a, b] of merges) {
    if (!ids.has(a) || !ids.has(b)) throw new Error(`tiny tokenizer: merge (${a}, ${b}) uses an unknown token`);
    const token = a + b;
    if (!ids.has(token)) {
      if (ids.size === limit) break;
      ids.set(token, ids.size);
    }
    kept.push([a, b]);
  }
  if (ids.size !== limit) {
    throw new Error(`tiny tokenizer: the corpus gave only ${ids.size - BYTE_ALPHABET_SIZE} merges, ${TINY_MERGE_COUNT} needed`);
  }
  return { vocab: Object.fromEntries(ids), merges: kept };
}

const VOCAB_PLACEHOLDER = '@vocab@';
const MERGES_PLACEHOLDER = '@merges@';

function tokenizerJson(vocab: Record<string, number>, merges: readonly Merge[]): string {
  const firstAddedId = Object.keys(vocab).length;
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: ADDED_TOKENS.map((content, i) => ({
      id: firstAddedId + i,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: (TINY_SPECIAL_TOKENS as readonly string[]).includes(content),
    })),
    normalizer: null,
    pre_tokenizer: PRE_TOKENIZER,
    post_processor: BYTE_LEVEL_PLAIN,
    decoder: BYTE_LEVEL_PLAIN,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: VOCAB_PLACEHOLDER,
      merges: MERGES_PLACEHOLDER,
    },
  };
  // Written by hand, one entry per line: a JS object would list the digit tokens "0"-"9" first
  // (integer-like keys), and the vocabulary reads best in id order, as Hugging Face writes it.
  const vocabText = Object.entries(vocab)
    .sort((a, b) => a[1] - b[1])
    .map(([token, id]) => `      ${JSON.stringify(token)}: ${id}`)
    .join(',\n');
  const mergesText = merges.map((merge) => `      ${JSON.stringify(merge)}`).join(',\n');
  return `${JSON.stringify(json, null, 2)}\n`
    .replace(JSON.stringify(VOCAB_PLACEHOLDER), `{\n${vocabText}\n    }`)
    .replace(JSON.stringify(MERGES_PLACEHOLDER), `[\n${mergesText}\n    ]`);
}

function tokenizerConfigJson(): string {
  const config = {
    add_bos_token: false,
    add_prefix_space: false,
    additional_special_tokens: ['<|im_start|>', '<|im_end|>'],
    bos_token: null,
    clean_up_tokenization_spaces: false,
    eos_token: TINY_EOS_TOKEN,
    pad_token: TINY_PAD_TOKEN,
    unk_token: null,
    split_special_tokens: false,
    tokenizer_class: 'PreTrainedTokenizerFast',
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** Loads the result with the binding and checks the promises the rest of the engine relies on. */
async function verify(text: string, samples: readonly string[]): Promise<void> {
  const { Tokenizer } = await import('tokenizers');
  const tokenizer = Tokenizer.fromString(text);
  const size = tokenizer.getVocabSize(true);
  if (size !== TINY_VOCAB_SIZE) throw new Error(`tiny tokenizer: ${size} ids, expected ${TINY_VOCAB_SIZE}`);
  for (const token of ADDED_TOKENS) {
    const ids = (await tokenizer.encode(token, null, { addSpecialTokens: false })).getIds();
    if (ids.length !== 1) throw new Error(`tiny tokenizer: '${token}' encodes to ${ids.length} tokens`);
  }
  for (const sample of samples) {
    const ids = (await tokenizer.encode(sample, null, { addSpecialTokens: false })).getIds();
    const decoded = await tokenizer.decode(ids, false);
    if (decoded !== sample) throw new Error(`tiny tokenizer: round trip changed ${JSON.stringify(sample)}`);
  }
}

export interface TinyTokenizerFiles {
  /** tokenizer.json text. */
  tokenizer: string;
  /** tokenizer_config.json text (eos `<|im_end|>`, pad `<|endoftext|>`, as Qwen3). */
  tokenizerConfig: string;
}

/** Builds the files in memory; deterministic for the same corpus options. */
export async function buildTinyTokenizer(options: TokenizerCorpusOptions = {}): Promise<TinyTokenizerFiles> {
  const corpus = tokenizerCorpus(options);
  const scratch = await mkdtemp(join(tmpdir(), 'tiny-tokenizer-'));
  try {
    const { vocab, merges } = vocabularyFromMerges(await trainMerges(corpus, scratch));
    const tokenizer = tokenizerJson(vocab, merges);
    await verify(tokenizer, corpus.filter((_, i) => i % 97 === 0));
    return { tokenizer, tokenizerConfig: tokenizerConfigJson() };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

export async function writeTinyTokenizer(dir: string = tinyTokenizerDir(), options: TokenizerCorpusOptions = {}): Promise<TinyTokenizerFiles> {
  const files = await buildTinyTokenizer(options);
  await mkdir(dir, { recursive: true });
  // Each file whole or not at all: a stopped rebuild leaves the shipped tokenizer readable.
  await writeFileAtomically(join(dir, 'tokenizer.json'), [Buffer.from(files.tokenizer)]);
  await writeFileAtomically(join(dir, 'tokenizer_config.json'), [Buffer.from(files.tokenizerConfig)]);
  return files;
}
