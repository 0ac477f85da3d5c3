// The synthetic preference family: the correctness rule on hand-written cases of every kind,
// chosen always right and rejected always wrong, seeded determinism and prompt-disjoint splits.
import { describe, expect, it } from 'vitest';
import { caseSlipOverOtherLetter, defineKind } from '../src/synth/kind.js';
import { WORDS } from '../src/synth/vocabulary.js';
import {
  SYNTH_KINDS,
  SYNTH_TASKS,
  allotPrompts,
  checkResponse,
  findKind,
  makeSplits,
  type SynthPair,
} from '../src/synth/tasks.js';

interface Case {
  prompt: string;
  response: string;
  correct: boolean;
  expected: string;
  got?: string;
}

const CASES: Record<string, Case[]> = {
  add: [
    { prompt: 'What is 37 + 48?', response: '85', correct: true, expected: '85' },
    { prompt: 'What is 37 + 48?', response: ' 85\n', correct: true, expected: '85', got: '85' },
    { prompt: 'What is 37 + 48?', response: '86', correct: false, expected: '85' },
    { prompt: 'What is 37 + 48?', response: '85.0', correct: false, expected: '85' },
    { prompt: 'What is 37 + 48?', response: 'The answer is 85', correct: false, expected: '85' },
    { prompt: 'What is 99 + 99?', response: '198', correct: true, expected: '198' },
    { prompt: 'What is 5 + 4?', response: '9', correct: true, expected: '9' },
  ],
  subtract: [
    { prompt: 'What is 48 - 37?', response: '11', correct: true, expected: '11' },
    { prompt: 'What is 48 - 37?', response: '-11', correct: false, expected: '11' },
    { prompt: 'What is 7 - 7?', response: '0', correct: true, expected: '0' },
  ],
  multiply: [
    { prompt: 'What is 7 * 8?', response: '56', correct: true, expected: '56' },
    { prompt: 'What is 7 * 8?', response: '65', correct: false, expected: '56' },
  ],
  reverse: [
    { prompt: "Reverse 'kite'.", response: 'etik', correct: true, expected: 'etik' },
    { prompt: "Reverse 'kite'.", response: 'etki', correct: false, expected: 'etik' },
    { prompt: "Reverse 'kite'.", response: 'kite', correct: false, expected: 'etik' },
    { prompt: "Reverse 'kite'.", response: 'ETIK', correct: false, expected: 'etik' },
  ],
  uppercase: [
    { prompt: "Uppercase 'dog'.", response: 'DOG', correct: true, expected: 'DOG' },
    { prompt: "Uppercase 'dog'.", response: 'Dog', correct: false, expected: 'DOG' },
  ],
  sort: [
    { prompt: "Sort the letters of 'bca'.", response: 'abc', correct: true, expected: 'abc' },
    { prompt: "Sort the letters of 'bca'.", response: 'acb', correct: false, expected: 'abc' },
    { prompt: "Sort the letters of 'kite'.", response: 'eikt', correct: true, expected: 'eikt' },
  ],
  'remove-vowels': [
    { prompt: "Remove the vowels of 'kite'.", response: 'kt', correct: true, expected: 'kt' },
    { prompt: "Remove the vowels of 'kite'.", response: 'kte', correct: false, expected: 'kt' },
  ],
  'words-starting-with': [
    { prompt: "Write 3 words starting with 'b'.", response: 'bat bed bus', correct: true, expected: 'bbb', got: 'bbb' },
    // Any lower-case words obeying the rule count, listed or not.
    { prompt: "Write 3 words starting with 'b'.", response: 'blue  brave\nbox', correct: true, expected: 'bbb' },
    { prompt: "Write 3 words starting with 'b'.", response: 'bat bed', correct: false, expected: 'bbb', got: 'bb' },
    { prompt: "Write 3 words starting with 'b'.", response: 'bat bed bus bag', correct: false, expected: 'bbb', got: 'bbbb' },
    { prompt: "Write 3 words starting with 'b'.", response: 'bat cat bus', correct: false, expected: 'bbb', got: 'bcb' },
    { prompt: "Write 3 words starting with 'b'.", response: 'Bat bed bus', correct: false, expected: 'bbb', got: '?bb' },
    { prompt: "Write 3 words starting with 'b'.", response: 'bat, bed, bus', correct: false, expected: 'bbb', got: '??b' },
    { prompt: "Write 2 words starting with 'z'.", response: '', correct: false, expected: 'zz', got: '' },
  ],
  'words-ending-with': [
    { prompt: "Write 2 words ending with 't'.", response: 'cat hut', correct: true, expected: 'tt', got: 'tt' },
    { prompt: "Write 2 words ending with 't'.", response: 'cat tub', correct: false, expected: 'tt', got: 'tb' },
  ],
  'word-starting-with': [
    { prompt: "Write one word with the first letter of 'bus'.", response: 'bat', correct: true, expected: 'b', got: 'b' },
    // Echoing the named word obeys the rule too.
    { prompt: "Write one word with the first letter of 'bus'.", response: 'bus', correct: true, expected: 'b', got: 'b' },
    { prompt: "Write one word with the first letter of 'bus'.", response: 'web', correct: false, expected: 'b', got: 'w' },
    { prompt: "Write one word with the first letter of 'bus'.", response: 'bat bus', correct: false, expected: 'b', got: 'bb' },
    { prompt: "Write one word with the first letter of 'bus'.", response: 'Bat', correct: false, expected: 'b', got: '?' },
  ],
  'word-ending-with': [
    { prompt: "Write one word with the last letter of 'cat'.", response: ' hut ', correct: true, expected: 't', got: 't' },
    { prompt: "Write one word with the last letter of 'cat'.", response: 'tub', correct: false, expected: 't', got: 'b' },
    // The named word's last letter, not its first.
    { prompt: "Write one word with the last letter of 'cat'.", response: 'cow', correct: false, expected: 't', got: 'w' },
  ],
  'char-at': [
    { prompt: "What does 'pear'[0] give?", response: 'p', correct: true, expected: 'p' },
    { prompt: "What does 'pear'[1] give?", response: 'e', correct: true, expected: 'e' },
    { prompt: "What does 'pear'[1] give?", response: 'a', correct: false, expected: 'e' },
    { prompt: "What does 'pear'[-1] give?", response: 'r', correct: true, expected: 'r' },
    { prompt: "What does 'pear'[-1] give?", response: 'R', correct: false, expected: 'r' },
  ],
  'letter-neighbour': [
    { prompt: "What letter comes after 'c'?", response: 'd', correct: true, expected: 'd' },
    { prompt: "What letter comes after 'c'?", response: 'e', correct: false, expected: 'd' },
    { prompt: "What letter comes before 'c'?", response: 'b', correct: true, expected: 'b' },
    { prompt: "What letter comes after 'y'?", response: 'z', correct: true, expected: 'z' },
  ],
  opposite: [
    { prompt: "What is the opposite of 'hot'?", response: 'cold', correct: true, expected: 'cold' },
    { prompt: "What is the opposite of 'cold'?", response: 'hot', correct: true, expected: 'hot' },
    { prompt: "What is the opposite of 'hot'?", response: 'warm', correct: false, expected: 'cold' },
  ],
  'first-letter': [
    { prompt: "What is the first letter of 'pear'?", response: 'p', correct: true, expected: 'p' },
    { prompt: "What is the first letter of 'pear'?", response: 'r', correct: false, expected: 'p' },
    { prompt: "What is the first letter of 'pear'?", response: 'P', correct: false, expected: 'p' },
  ],
  'last-letter': [
    { prompt: "What is the last letter of 'pear'?", response: 'r', correct: true, expected: 'r' },
    { prompt: "What is the last letter of 'pear'?", response: ' r ', correct: true, expected: 'r' },
    { prompt: "What is the last letter of 'pear'?", response: 'e', correct: false, expected: 'r' },
  ],
  plural: [
    { prompt: "What is the plural of 'box'?", response: 'boxes', correct: true, expected: 'boxes' },
    { prompt: "What is the plural of 'box'?", response: 'boxs', correct: false, expected: 'boxes' },
    { prompt: "What is the plural of 'bus'?", response: 'buses', correct: true, expected: 'buses' },
    { prompt: "What is the plural of 'bus'?", response: 'buss', correct: false, expected: 'buses' },
    { prompt: "What is the plural of 'kite'?", response: 'kites', correct: true, expected: 'kites' },
    { prompt: "What is the plural of 'key'?", response: 'keys', correct: true, expected: 'keys' },
    { prompt: "What is the plural of 'city'?", response: 'cities', correct: true, expected: 'cities' },
    { prompt: "What is the plural of 'city'?", response: 'citys', correct: false, expected: 'cities' },
  ],
};

describe('checkResponse', () => {
  it('has hand-written cases for every kind, right and wrong', () => {
    expect(Object.keys(CASES).sort()).toEqual(SYNTH_KINDS.map((k) => k.name).sort());
    for (const cases of Object.values(CASES)) {
      expect(cases.some((c) => c.correct)).toBe(true);
      expect(cases.some((c) => !c.correct)).toBe(true);
    }
  });

  for (const [kind, cases] of Object.entries(CASES)) {
    it(`decides ${kind} responses`, () => {
      for (const c of cases) {
        const check = checkResponse(c.prompt, c.response);
        expect({ prompt: c.prompt, response: c.response, ...check }).toMatchObject({
          prompt: c.prompt,
          response: c.response,
          kind,
          correct: c.correct,
          expected: c.expected,
          ...(c.got === undefined ? {} : { got: c.got }),
        });
      }
    });
  }

  it('rejects prompts that are not from the family', () => {
    expect(() => checkResponse('What is 3 + 4', '7')).toThrow(/not a prompt of the synthetic task family/);
    expect(() => checkResponse('What is 100 + 4?', '104')).toThrow(/synthetic/);
    expect(() => checkResponse("What letter comes after 'z'?", 'a')).toThrow(/synthetic/);
    expect(() => checkResponse("What is the plural of 'fish'?", 'fishes')).toThrow(/synthetic/);
    expect(() => checkResponse("What does 'pear'[2] give?", 'a')).toThrow(/synthetic/);
    // Past the word's end: Python raises, so there is no expected letter to judge against.
    expect(() => checkResponse("What does 'a'[1] give?", 'a')).toThrow(/synthetic/);
    expect(checkResponse("What does 'ab'[1] give?", 'b')).toMatchObject({ kind: 'char-at', correct: true });
    expect(() => checkResponse("Write one word with the first letter of 'quiz'.", 'quit')).toThrow(/synthetic/);
    expect(() => checkResponse("Write one word with first letter 'b'.", 'bat')).toThrow(/synthetic/);
    expect(findKind('Tell me a joke.')).toBeUndefined();
  });

  it('tags each kind with a PaTaRM task of the family', () => {
    const tasks = new Set(SYNTH_KINDS.map((k) => k.task));
    expect([...tasks].sort()).toEqual([...SYNTH_TASKS].sort());
    expect(checkResponse('What is 1 + 1?', '2').task).toBe('math');
    expect(checkResponse("Reverse 'ab'.", 'ba').task).toBe('code');
    expect(checkResponse("Write 2 words starting with 'b'.", 'bat bus').task).toBe('instruction_following');
    expect(checkResponse("What is the opposite of 'up'?", 'down').task).toBe('chat');
  });

  it('parses back every prompt of every kind, and only its own', () => {
    for (const kind of SYNTH_KINDS) {
      const prompts = kind.prompts();
      expect(prompts.length, kind.name).toBeGreaterThan(0);
      expect(new Set(prompts).size).toBe(prompts.length);
      for (const prompt of prompts) expect(findKind(prompt)).toBe(kind);
    }
  });
});

describe('makeSplits', () => {
  const splits = makeSplits({ seed: 11, train: 1500, val: 150, test: 150 });
  const all = [...splits.train, ...splits.val, ...splits.test];

  it('returns the requested sizes with unique ids and PreferencePair fields', () => {
    expect(splits.train).toHaveLength(1500);
    expect(splits.val).toHaveLength(150);
    expect(splits.test).toHaveLength(150);
    expect(new Set(all.map((p) => p.id)).size).toBe(all.length);
    for (const pair of all) {
      expect(typeof pair.prompt).toBe('string');
      expect(SYNTH_TASKS).toContain(pair.task);
      expect(pair.chosen).not.toBe(pair.rejected);
      expect(findKind(pair.prompt)?.name).toBe(pair.kind);
    }
  });

  it('never shares a prompt between two splits', () => {
    const seen = new Map<string, string>();
    for (const [name, pairs] of Object.entries(splits)) {
      for (const prompt of new Set(pairs.map((p: SynthPair) => p.prompt))) {
        expect(seen.get(prompt), prompt).toBeUndefined();
        seen.set(prompt, name);
      }
    }
  });

  it("with splitBy: 'word', never asks about a vocabulary word in two splits; prompts without one are split by prompt", () => {
    const bySplit = makeSplits({ seed: 11, train: 1500, val: 150, test: 150, splitBy: 'word' });
    const wordOf = (p: SynthPair) => /'([^']+)'/.exec(p.prompt)?.[1];
    const seen = new Map<string, string>();
    let withWord = 0;
    for (const [name, pairs] of Object.entries(bySplit)) {
      for (const pair of pairs as SynthPair[]) {
        const word = wordOf(pair);
        if (word === undefined || !WORDS.includes(word)) continue;
        withWord++;
        expect(seen.get(word) ?? name, `${word} in ${seen.get(word)} and ${name}`).toBe(name);
        seen.set(word, name);
      }
    }
    expect(withWord).toBeGreaterThan(300);
    expect(new Set([...seen.values()])).toEqual(new Set(['train', 'val', 'test']));
    // The default split shares words across splits (under different kinds); this one exists to avoid that.
    const shared = splits.test.filter((p) => splits.train.some((q) => wordOf(q) === wordOf(p) && WORDS.includes(wordOf(p)!)));
    expect(shared.length).toBeGreaterThan(0);
    // Prompts stay disjoint as well.
    const prompts = (ps: SynthPair[]) => new Set(ps.map((p) => p.prompt));
    const train = prompts(bySplit.train);
    expect([...prompts(bySplit.test)].filter((p) => train.has(p))).toEqual([]);
  });

  it("with heldOutWords: 'made-up', asks the held-out splits of the letter kinds about made-up words only, different per split", () => {
    const made = makeSplits({ seed: 11, train: 1500, val: 150, test: 150, heldOutWords: 'made-up' });
    const wordOf = (p: SynthPair) => /'([a-z]+)'/.exec(p.prompt)?.[1];
    const letterKinds = new Set(SYNTH_KINDS.filter((k) => k.promptsAbout).map((k) => k.name));
    expect([...letterKinds].sort()).toEqual(['char-at', 'first-letter', 'last-letter', 'word-ending-with', 'word-starting-with']);
    const familyText = SYNTH_KINDS.flatMap((k) => k.prompts()).join(' ');
    const heldOutWords = { val: new Set<string>(), test: new Set<string>() };
    for (const name of ['val', 'test'] as const) {
      const asked = made[name].filter((p) => letterKinds.has(p.kind));
      expect(asked.length, name).toBeGreaterThan(20);
      for (const pair of asked) {
        const word = wordOf(pair)!;
        expect(WORDS, pair.prompt).not.toContain(word);
        expect(familyText.includes(`'${word}'`), pair.prompt).toBe(false);
        expect(word).toMatch(/^[a-z]{3,4}$/);
        heldOutWords[name].add(word);
        // The rule still decides these prompts: chosen right, rejected wrong.
        expect(checkResponse(pair.prompt, pair.chosen).correct, pair.prompt).toBe(true);
        expect(checkResponse(pair.prompt, pair.rejected).correct, pair.prompt).toBe(false);
      }
    }
    expect([...heldOutWords.val].filter((w) => heldOutWords.test.has(w))).toEqual([]);
    // The train split asks the letter kinds about vocabulary words only, every one of them available.
    const trainLetter = made.train.filter((p) => letterKinds.has(p.kind));
    expect(trainLetter.length).toBeGreaterThan(200);
    for (const pair of trainLetter) expect(WORDS).toContain(wordOf(pair));
    // The other kinds keep their prompt split; the same seed gives the same pairs.
    expect(made.test.some((p) => !letterKinds.has(p.kind))).toBe(true);
    expect(makeSplits({ seed: 11, train: 1500, val: 150, test: 150, heldOutWords: 'made-up' })).toEqual(made);
    expect(makeSplits({ seed: 11, train: 1500, val: 150, test: 150, heldOutWords: 'vocabulary' })).toEqual(splits);
    // A held-out split too large for the made-up words there are is refused, not looped on.
    expect(() => makeSplits({ seed: 1, train: 0, val: 0, test: 800_000, heldOutWords: 'made-up' })).toThrow(/more than half of the 474552 strings/);
    expect(() => makeSplits({ seed: 1, train: 1, val: 0, test: 0, heldOutWords: 'madeup' as 'made-up' })).toThrow(/heldOutWords is 'vocabulary' or 'made-up', got "madeup"/);
  });

  it("with trainMadeUpWords, mixes prompts about made-up words of the train split's own into its vocabulary prompts", () => {
    const base = makeSplits({ seed: 11, train: 1500, val: 150, test: 150, heldOutWords: 'made-up' });
    const mixed = makeSplits({ seed: 11, train: 1500, val: 150, test: 150, heldOutWords: 'made-up', trainMadeUpWords: 10 });
    const letterKinds = new Set(SYNTH_KINDS.filter((k) => k.promptsAbout).map((k) => k.name));
    const wordOf = (p: SynthPair) => (letterKinds.has(p.kind) ? /'([a-z]+)'/.exec(p.prompt)?.[1] : undefined);
    // The held-out splits are untouched: the train words are drawn after theirs.
    expect(mixed.test).toEqual(base.test);
    expect(mixed.val).toEqual(base.val);
    const heldOut = new Set([...base.test, ...base.val].map(wordOf).filter((w) => w !== undefined));
    const trainMadeUp = new Set(mixed.train.map(wordOf).filter((w): w is string => w !== undefined && !WORDS.includes(w)));
    expect(trainMadeUp.size).toBe(10);
    for (const word of trainMadeUp) {
      expect(word).toMatch(/^[a-z]{3,4}$/);
      expect(heldOut.has(word), word).toBe(false);
    }
    // Mixed in, not appended: made-up prompts turn up in the first tenth of the train pairs, and
    // the vocabulary's prompts are all still there.
    expect(mixed.train.slice(0, 150).some((p) => trainMadeUp.has(wordOf(p) ?? ''))).toBe(true);
    const vocabularyPrompts = (ps: SynthPair[]) => new Set(ps.filter((p) => WORDS.includes(wordOf(p) ?? '')).map((p) => p.prompt));
    expect(vocabularyPrompts(makeSplits({ seed: 11, train: 20000, val: 150, test: 150, heldOutWords: 'made-up', trainMadeUpWords: 10 }).train))
      .toEqual(vocabularyPrompts(makeSplits({ seed: 11, train: 20000, val: 150, test: 150, heldOutWords: 'made-up' }).train));
    expect(() => makeSplits({ seed: 1, train: 10, val: 0, test: 0, trainMadeUpWords: 4 })).toThrow(/trainMadeUpWords needs heldOutWords 'made-up', got 'vocabulary'/);
    expect(() => makeSplits({ seed: 1, train: 10, val: 0, test: 0, heldOutWords: 'made-up', trainMadeUpWords: 1.5 })).toThrow(/trainMadeUpWords must be a non-negative integer, got 1.5/);
  });

  it('with sharedHeldOutWords, the held-out splits ask about one pool of made-up words, their prompts still disjoint', () => {
    const shared = makeSplits({ seed: 11, train: 1500, val: 450, test: 150, heldOutWords: 'made-up', trainMadeUpWords: 10, sharedHeldOutWords: 37 });
    const letterKinds = new Set(SYNTH_KINDS.filter((k) => k.promptsAbout).map((k) => k.name));
    const wordOf = (p: SynthPair) => (letterKinds.has(p.kind) ? /'([a-z]+)'/.exec(p.prompt)?.[1] : undefined);
    const wordsOf = (ps: SynthPair[]) => new Set(ps.map(wordOf).filter((w): w is string => w !== undefined));
    const testWords = wordsOf(shared.test), valWords = wordsOf(shared.val);
    for (const word of [...testWords, ...valWords]) expect(WORDS, word).not.toContain(word);
    const pool = new Set([...testWords, ...valWords]);
    expect(pool.size).toBe(37);
    // Nearly every test word is asked about in validation too (each word has up to 7 prompts, cut 1:3).
    expect([...testWords].filter((w) => valWords.has(w)).length).toBeGreaterThan(0.8 * testWords.size);
    const valPrompts = new Set(shared.val.map((p) => p.prompt));
    expect(shared.test.filter((p) => valPrompts.has(p.prompt))).toEqual([]);
    // The train split's own made-up words stay apart from the pool.
    const trainMadeUp = [...wordsOf(shared.train)].filter((w) => !WORDS.includes(w));
    expect(trainMadeUp.length).toBe(10);
    for (const word of trainMadeUp) expect(pool.has(word), word).toBe(false);
    expect(() => makeSplits({ seed: 1, train: 10, val: 1, test: 1, sharedHeldOutWords: 4 })).toThrow(/sharedHeldOutWords needs heldOutWords 'made-up', got 'vocabulary'/);
    expect(() => makeSplits({ seed: 1, train: 10, val: 1, test: 1, heldOutWords: 'made-up', sharedHeldOutWords: -1 })).toThrow(/sharedHeldOutWords must be a non-negative integer, got -1/);
  });
  it('keeps held-out splits disjoint even when a tiny split meets a huge one', () => {
    const lopsided = makeSplits({ seed: 3, train: 4000, val: 1, test: 2 });
    const held = new Set([...lopsided.val, ...lopsided.test].map((p) => p.prompt));
    expect(held.size).toBeGreaterThan(0);
    expect(lopsided.train.some((p) => held.has(p.prompt))).toBe(false);
  });

  it('always pairs a correct chosen response with a wrong rejected one', () => {
    const big = makeSplits({ seed: 5, train: 4000, val: 0, test: 500 });
    for (const pair of [...big.train, ...big.test, ...all]) {
      expect(checkResponse(pair.prompt, pair.chosen).correct, `${pair.prompt} -> ${pair.chosen}`).toBe(true);
      expect(checkResponse(pair.prompt, pair.rejected).correct, `${pair.prompt} -> ${pair.rejected}`).toBe(false);
    }
  });

  it('makes math near misses that are plausible slips', () => {
    for (const pair of all.filter((p) => p.task === 'math')) {
      const right = Number(pair.chosen);
      const wrong = Number(pair.rejected);
      expect(pair.rejected).toMatch(/^\d+$/);
      const swapped = pair.chosen.slice(0, -2) + pair.chosen.at(-1) + pair.chosen.at(-2);
      expect([1, 2, 10].includes(Math.abs(wrong - right)) || pair.rejected === swapped, `${pair.chosen} vs ${pair.rejected}`).toBe(true);
    }
  });

  it('covers every task and almost every kind in a train split of this size', () => {
    for (const task of SYNTH_TASKS) expect(splits.train.filter((p) => p.task === task).length).toBeGreaterThan(250);
    const kinds = new Set(splits.train.map((p) => p.kind));
    expect(kinds.size).toBe(SYNTH_KINDS.length);
  });

  it('is deterministic for a seed and changes with it', () => {
    expect(makeSplits({ seed: 11, train: 1500, val: 150, test: 150 })).toEqual(splits);
    const other = makeSplits({ seed: 12, train: 1500, val: 150, test: 150 });
    expect(other.test.map((p) => p.prompt)).not.toEqual(splits.test.map((p) => p.prompt));
  });

  it('follows task weights', () => {
    const mathOnly = makeSplits({ seed: 1, train: 200, val: 0, test: 20, taskWeights: { code: 0, chat: 0, instruction_following: 0 } });
    expect(new Set([...mathOnly.train, ...mathOnly.test].map((p) => p.task))).toEqual(new Set(['math']));
    expect(() => makeSplits({ seed: 1, train: 1, val: 0, test: 0, taskWeights: { math: 0, code: 0, chat: 0, instruction_following: 0 } })).toThrow(/every task weight is 0/);
    expect(() => makeSplits({ seed: 1, train: 1, val: 0, test: 0, taskWeights: { math: -1 } })).toThrow(/weight/);
  });

  it('makes partial pairs only where asked: a wrong-case letter preferred to a wrong letter', () => {
    const options = { seed: 5, train: 2000, val: 0, test: 300 };
    const plain = makeSplits(options);
    // A share of 0 is the family as it was before partial pairs: the same pairs, all chosen right.
    expect(makeSplits({ ...options, partialShare: 0 })).toEqual(plain);
    const mixed = makeSplits({ ...options, partialShare: 0.5 });
    const pairs = [...mixed.train, ...mixed.test];
    const partial = pairs.filter((p) => !checkResponse(p.prompt, p.chosen).correct);
    const eligible = pairs.filter((p) => findKind(p.prompt)?.partialPair !== undefined);
    expect(new Set(eligible.map((p) => p.kind))).toEqual(new Set(['first-letter', 'last-letter', 'char-at']));
    // About half of the eligible pairs (binomial, n ~ 400: 0.5 +- 0.1 is over 4 standard deviations).
    expect(Math.abs(partial.length / eligible.length - 0.5)).toBeLessThan(0.1);
    for (const pair of partial) {
      expect(findKind(pair.prompt)?.partialPair, pair.kind).toBeDefined();
      const chosen = checkResponse(pair.prompt, pair.chosen), rejected = checkResponse(pair.prompt, pair.rejected);
      expect(pair.chosen, pair.prompt).toBe(chosen.expected.toUpperCase());
      expect(rejected.correct).toBe(false);
      expect(pair.rejected.toLowerCase(), pair.prompt).not.toBe(rejected.expected);
    }
    const all = makeSplits({ ...options, partialShare: 1 });
    for (const pair of [...all.train, ...all.test]) {
      expect(checkResponse(pair.prompt, pair.chosen).correct, pair.prompt).toBe(findKind(pair.prompt)?.partialPair === undefined);
    }
    expect(() => makeSplits({ ...options, partialShare: 1.5 })).toThrow(/partialShare must be in \[0, 1\], got 1.5/);
  });

  it('rejects bad sizes', () => {
    expect(() => makeSplits({ seed: 1, train: -1, val: 0, test: 0 })).toThrow(/train must be a non-negative integer/);
    expect(() => makeSplits({ seed: 1, train: 1, val: 0.5, test: 0 })).toThrow(/val/);
  });
});

describe('allotPrompts', () => {
  it('gives held-out splits a proportional share, at least one prompt, and train the rest', () => {
    expect(allotPrompts(1000, [100, 100, 800])).toEqual([100, 100, 800]);
    expect(allotPrompts(64, [200, 200, 2000])).toEqual([5, 5, 54]);
    expect(allotPrompts(7, [1, 1, 100000])).toEqual([1, 1, 5]);
    expect(allotPrompts(2, [5, 5, 5])).toEqual([1, 0, 1]);
    expect(allotPrompts(50, [0, 0, 10])).toEqual([0, 0, 50]);
    expect(allotPrompts(50, [10, 0, 0])).toEqual([50, 0, 0]);
    expect(allotPrompts(50, [0, 0, 0])).toEqual([0, 0, 0]);
  });
});

describe('defineKind partial pairs', () => {
  const letterKind = (partialPair: (word: string) => { better: string; worse: string }) =>
    defineKind<{ word: string }>({
      name: 'test-first', task: 'chat', enumerate: () => [{ word: 'pear' }],
      render: ({ word }) => `first of ${word}`, parse: (p) => (p.startsWith('first of ') ? { word: p.slice(9) } : null),
      expected: ({ word }) => word[0]!, nearMisses: ({ word }) => [word[1]!], partialPair: ({ word }) => partialPair(word),
    });

  it('returns a wrong-case response and a wrong one', () => {
    expect(letterKind(() => ({ better: 'P', worse: 'e' })).partialPair!('first of pear', Math.random)).toEqual({ better: 'P', worse: 'e' });
  });

  it('prefers the right letter in upper case to another letter, the next one for a word of one letter', () => {
    expect(caseSlipOverOtherLetter('zzz', 'z', () => 0)).toEqual({ better: 'Z', worse: 'a' });
    expect(caseSlipOverOtherLetter('kkk', 'k', () => 0)).toEqual({ better: 'K', worse: 'l' });
    expect(caseSlipOverOtherLetter('kek', 'k', () => 0)).toEqual({ better: 'K', worse: 'e' });
    const charAt = SYNTH_KINDS.find((k) => k.name === 'char-at')!;
    expect(charAt.partialPair!("What does 'zzz'[-1] give?", () => 0.5)).toEqual({ better: 'Z', worse: 'a' });
  });

  it('refuses a pair that is not one', () => {
    for (const bad of [{ better: 'p', worse: 'e' }, { better: 'P', worse: 'p' }, { better: 'e', worse: 'a' }, { better: 'P', worse: 'P' }]) {
      expect(() => letterKind(() => bad).partialPair!('first of pear', Math.random), JSON.stringify(bad)).toThrow(/test-first: partial pair for "first of pear"/);
    }
  });
});
