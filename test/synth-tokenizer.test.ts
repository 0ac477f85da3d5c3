// The committed tiny tokenizer (models/tiny-tokenizer): 384 ids like the qwen3-tiny fixture, one
// token per template tag, exact round trips, short rows, and a deterministic rebuild (in this
// process and through the CLI shim) that reproduces the committed files byte for byte.
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer as ReferenceTokenizer } from '@huggingface/tokenizers';
import { Tokenizer as NativeTokenizer } from 'tokenizers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTokenizer, type Tokenizer } from '../src/tokenizer/index.js';
import { CHARACTER_KINDS, makeSplits } from '../src/synth/tasks.js';
import {
  TINY_SPECIAL_TOKENS,
  TINY_SPLIT_PATTERN,
  TINY_TAG_TOKENS,
  TINY_VOCAB_SIZE,
  buildTinyTokenizer,
  packageRoot,
  tinyTokenizerDir,
} from '../src/synth/tiny-tokenizer.js';
import { measureSynthLengths } from '../src/synth/token-lengths.js';
import { synthTexts } from '../src/synth/tokenizer-corpus.js';

const DIR = tinyTokenizerDir();
const TEMPLATE_TAGS = ['<task>', '</task>', '<rubrics>', '</rubrics>', '<prompt>', '</prompt>', '<response>', '</response>', '<answer>', '</answer>'];

let tok: Tokenizer;
let committed: { tokenizer: string; tokenizerConfig: string };

beforeAll(async () => {
  tok = await loadTokenizer(DIR);
  committed = {
    tokenizer: await readFile(join(DIR, 'tokenizer.json'), 'utf8'),
    tokenizerConfig: await readFile(join(DIR, 'tokenizer_config.json'), 'utf8'),
  };
});

const ids = async (text: string) => Array.from(await tok.encode(text));

describe('tiny tokenizer files', () => {
  it('live in models/tiny-tokenizer', () => {
    expect(DIR).toBe(join(packageRoot(), 'models', 'tiny-tokenizer'));
  });

  it('have exactly 384 ids, the vocabulary of the qwen3-tiny fixture model', async () => {
    const fixture = JSON.parse(await readFile(join(packageRoot(), 'test/fixtures/qwen3-tiny/model/config.json'), 'utf8'));
    expect(TINY_VOCAB_SIZE).toBe(fixture.vocab_size);
    expect(tok.vocabSize).toBe(384);
    expect(NativeTokenizer.fromFile(join(DIR, 'tokenizer.json')).getVocabSize(true)).toBe(384);
  });

  it('end the vocabulary with the added tokens, special flags as in Qwen3', () => {
    const added = [...TINY_SPECIAL_TOKENS, ...TINY_TAG_TOKENS];
    expect(added).toHaveLength(15);
    added.forEach((token, i) => expect(tok.tokenId(token)).toBe(369 + i));
    for (const token of TINY_SPECIAL_TOKENS) expect(tok.isSpecial(tok.tokenId(token))).toBe(true);
    for (const token of TINY_TAG_TOKENS) expect(tok.isSpecial(tok.tokenId(token))).toBe(false);
    expect(tok.eosId).toBe(tok.tokenId('<|im_end|>'));
    expect(tok.padId).toBe(tok.tokenId('<|endoftext|>'));
    expect(tok.thinkStart).toBe(tok.tokenId('<think>'));
    expect(tok.isByteLevel).toBe(true);
  });

  it('encode every template tag as one token, also inside text', async () => {
    for (const tag of [...TEMPLATE_TAGS, '<think>', '</think>']) {
      expect(await ids(tag), tag).toEqual([tok.tokenId(tag)]);
    }
    const inText = await ids('x<answer>7</answer>\n');
    expect(inText).toContain(tok.tokenId('<answer>'));
    expect(inText).toContain(tok.tokenId('</answer>'));
    // Not special: decoding with special tokens skipped keeps the tags.
    expect(tok.decode(inText, { skipSpecialTokens: true })).toBe('x<answer>7</answer>\n');
  });

  it('round-trip rendered prompts and judgments exactly', async () => {
    const { test } = makeSplits({ seed: 99, train: 0, val: 0, test: 200 });
    const { prompts, judgments } = synthTexts(test, 5);
    for (const text of [...prompts, ...judgments]) expect(tok.decode(await ids(text))).toBe(text);
  });

  it('round-trip any text, since all 256 bytes are tokens', async () => {
    for (const text of ['naïve café 日本 🤗', '\t\r\n  \u0000\u007f', '<|im_start|>user\nhi<|im_end|>\n', 'Ÿ¿½ ÿ']) {
      expect(tok.decode(await ids(text))).toBe(text);
    }
  });

  it('spell numbers digit by digit', async () => {
    const digits = await Promise.all([...'0123456789'].map(async (d) => (await ids(d))[0]!));
    expect(new Set(digits).size).toBe(10);
    const number = await ids('1234567890');
    expect(number).toEqual([...digits.slice(1), digits[0]]);
  });

  it('agree with an independent implementation (@huggingface/tokenizers)', async () => {
    const reference = new ReferenceTokenizer(JSON.parse(committed.tokenizer), JSON.parse(committed.tokenizerConfig));
    const { test } = makeSplits({ seed: 98, train: 0, val: 0, test: 40 });
    const { prompts, judgments } = synthTexts(test);
    for (const text of [...prompts, ...judgments, 'naïve 🤗 <|im_end|>']) {
      expect(reference.encode(text, { add_special_tokens: false }).ids).toEqual(await ids(text));
    }
  });

  it('spell content one character per token and keep template words whole', async () => {
    const letter = async (c: string) => {
      const one = await ids(c);
      expect(one, c).toHaveLength(1);
      return one[0]!;
    };
    // A response, a word to transform and a judgment trace: every letter is its own token, the
    // same id wherever it stands (word start, middle, after a space, upper case).
    expect(await ids('pear pen')).toEqual([...(await Promise.all([...'pear'].map(letter))), await letter(' '), ...(await Promise.all([...'pen'].map(letter)))]);
    expect(await ids("Reverse 'lid'.")).toEqual(expect.arrayContaining(await Promise.all([...'lid'].map(letter))));
    expect(await ids('WIG')).toEqual(await Promise.all([...'WIG'].map(letter)));
    // The judgment's fixed words are single tokens, with their leading space.
    for (const word of [' ok', ' no', ' correct', ' wrong', 'Criteria']) expect(await ids(word), word).toHaveLength(1);
    // A template word inside a longer word is spelt like any other content.
    expect(await ids('broken')).toHaveLength(6);
  });

  it("spell the made-up words of held-out prompts one character per token, like the vocabulary's", async () => {
    const { test } = makeSplits({ seed: 4, train: 0, val: 0, test: 300, heldOutWords: 'made-up' });
    const words = new Set(test.flatMap((p) => /'([a-z]+)'/.exec(p.prompt)?.[1] ?? []));
    expect(words.size).toBeGreaterThan(50);
    for (const word of words) expect(await ids(` '${word}'`), word).toHaveLength(word.length + 2);
    // The check can fail: a template word inside quotes is one piece, spelt by merges.
    expect((await ids(" 'with'")).length).toBeLessThan('with'.length + 2);
  });

  it('keep typical rows short: prompts under 70 tokens, judgments under 40', async () => {
    // Content is spelt letter by letter and compared position by position (4 tokens a position),
    // so the long opposites and plurals of the chat kinds make the longest judgments; the default
    // job's code and instruction rows stay under 32.
    const lengths = await measureSynthLengths((text) => tok.encode(text));
    expect(lengths.prompt.count).toBe(800);
    expect(lengths.prompt.median).toBeLessThan(50);
    expect(lengths.prompt.max).toBeLessThan(70);
    expect(lengths.judgment.median).toBeLessThan(26);
    expect(lengths.judgment.max).toBeLessThan(40);
    for (const task of ['code', 'instruction_following'] as const) expect(lengths.maxByTask[task].judgment, task).toBeLessThan(32);
    // Shortness comes from learned merges, not from a degenerate byte-per-token encoding.
    expect(await ids('Score the exact output.')).toHaveLength(5);
  });

  it("keep every template word of the default job's rows whole, so no stray letter looks like content", async () => {
    const { train } = makeSplits({ seed: 97, train: 400, val: 0, test: 0 });
    const rows = train.filter((p) => (CHARACTER_KINDS as readonly string[]).includes(p.kind));
    expect(rows.length).toBeGreaterThan(100);
    const { prompts, judgments } = synthTexts(rows, 3);
    const forms = new Set<string>();
    // The template tags are added tokens, matched before the split pattern sees the text.
    // A judgment opens with the two compared letters (content: 'n' against 'o' is "no"), and every
    // default-job judgment compares one position, so its template words start after them.
    const untagged = [...prompts, ...judgments.map((j) => j.slice(2))].map((text) => text.replace(/<\/?[a-z_]+>/g, '\n'));
    for (const text of untagged) for (const m of text.matchAll(new RegExp(TINY_SPLIT_PATTERN, 'g'))) if (m[0].length > 1) forms.add(m[0]);
    expect(forms).toContain(' first');
    expect(forms).toContain(' does');
    for (const form of forms) expect(await ids(form), JSON.stringify(form)).toHaveLength(1);
  });
});

describe('tiny tokenizer build', () => {
  let scratch: string;
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'tiny-tokenizer-test-'));
  });
  afterAll(async () => {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('reproduces the committed files byte for byte', async () => {
    expect(await buildTinyTokenizer()).toEqual(committed);
  });

  it('gives other files for another corpus (the build really trains)', async () => {
    const other = await buildTinyTokenizer({ seed: 1, pairs: 300 });
    expect(other.tokenizer).not.toBe(committed.tokenizer);
    expect(NativeTokenizer.fromString(other.tokenizer).getVocabSize(true)).toBe(384);
  });

  it('rebuilds the same files through the CLI shim in a fresh process', async () => {
    execFileSync(process.execPath, [join(packageRoot(), 'tools/build-tiny-tokenizer.js'), scratch], { stdio: 'pipe' });
    expect(await readFile(join(scratch, 'tokenizer.json'), 'utf8')).toBe(committed.tokenizer);
    expect(await readFile(join(scratch, 'tokenizer_config.json'), 'utf8')).toBe(committed.tokenizerConfig);
  });
});
