// The default job's data files: prompt-disjoint splits restricted to the chosen kinds, and the
// teacher's noise set per kind (a teacher weak at one task) without touching the other kinds, and a
// terse teacher that states bare verdicts.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeDemoData } from '../src/demo/data.js';
import { CHARACTER_KINDS, checkResponse } from '../src/synth/tasks.js';
import { WORDS } from '../src/synth/vocabulary.js';

const root = mkdtempSync(join(tmpdir(), 'demo-data-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const readRows = (file: string) => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
const verdict = (judgment: string) => /; (correct|wrong)\n/.exec(judgment)?.[1];
const isCharAt = (prompt: string) => /^What does '[a-z]+'\[-?\d+\] give\?$/.test(prompt);

describe('default job data', () => {
  const options = { seed: 3, sftPairs: 60, grpoPairs: 20, testPairs: 15, teacherFlip: 0, kinds: CHARACTER_KINDS };

  it('writes prompt-disjoint splits of the requested kinds and sizes', () => {
    const d = writeDemoData(join(root, 'plain'), options);
    const sft = readRows(d.sftFile), grpo = readRows(d.grpoFile), test = readRows(d.testFile);
    expect([sft.length, grpo.length, test.length]).toEqual([60, 20, 15]);
    const prompts = (rows: Record<string, string>[]) => new Set(rows.map((r) => r.prompt!));
    const [a, b, c] = [prompts(sft), prompts(grpo), prompts(test)];
    for (const p of b) expect(a.has(p), p).toBe(false);
    for (const p of c) expect(a.has(p) || b.has(p), p).toBe(false);
    // With no teacher noise every chosen response is judged correct and every rejected one wrong.
    for (const r of sft) {
      expect(checkResponse(r.prompt!, r.chosen!).correct).toBe(true);
      expect([verdict(r.chosen_judgment!), verdict(r.rejected_judgment!)]).toEqual(['correct', 'wrong']);
    }
  });

  it("with heldOutWords 'made-up', asks GRPO and test about made-up words and SFT about the vocabulary", () => {
    const d = writeDemoData(join(root, 'made-up'), { ...options, heldOutWords: 'made-up' });
    const wordsOf = (file: string) => new Set(readRows(file).map((r) => /'([a-z]+)'/.exec(r.prompt!)![1]!));
    const sft = wordsOf(d.sftFile), grpo = wordsOf(d.grpoFile), test = wordsOf(d.testFile);
    for (const w of sft) expect(WORDS, w).toContain(w);
    for (const w of [...grpo, ...test]) expect(WORDS, w).not.toContain(w);
    expect([...grpo].filter((w) => test.has(w))).toEqual([]);
    expect(d.test.map((p) => p.prompt)).toEqual(readRows(d.testFile).map((r) => r.prompt));
  });

  it('flips the teacher on one kind only when teacherFlipByKind names it', () => {
    const d = writeDemoData(join(root, 'weak'), { ...options, teacherFlipByKind: { 'char-at': 1 } });
    const sft = readRows(d.sftFile);
    const charAt = sft.filter((r) => isCharAt(r.prompt!)), others = sft.filter((r) => !isCharAt(r.prompt!));
    expect(charAt.length).toBeGreaterThan(0);
    expect(others.length).toBeGreaterThan(0);
    for (const r of charAt) expect([verdict(r.chosen_judgment!), verdict(r.rejected_judgment!)]).toEqual(['wrong', 'correct']);
    for (const r of others) expect([verdict(r.chosen_judgment!), verdict(r.rejected_judgment!)]).toEqual(['correct', 'wrong']);
  });

  it('with teacherTraceShare 0, writes every SFT judgment as a bare verdict, the same verdicts as with the reading', () => {
    const traced = readRows(writeDemoData(join(root, 'traced'), options).sftFile);
    const terse = readRows(writeDemoData(join(root, 'terse'), { ...options, teacherTraceShare: 0 }).sftFile);
    expect(terse.map((r) => r.prompt)).toEqual(traced.map((r) => r.prompt));
    for (const [i, r] of terse.entries()) {
      for (const side of ['chosen_judgment', 'rejected_judgment']) {
        expect(r[side]).toMatch(/^(correct|wrong)\nCriteria:\n/);
        expect(r[side]).toBe(traced[i]![side]!.slice(traced[i]![side]!.indexOf('; ') + 2));
      }
    }
  });

  it('writes partial pairs where asked, which the teacher cannot separate (so the SFT filter drops them)', () => {
    const d = writeDemoData(join(root, 'partial'), { ...options, partialShare: 1 });
    const score = (judgment: string) => Number(/<answer>(\d+)<\/answer>$/.exec(judgment)![1]);
    const eligible = (prompt: string) => isCharAt(prompt) || /^What is the (first|last) letter of /.test(prompt);
    for (const file of [d.sftFile, d.grpoFile, d.testFile]) {
      const rows = readRows(file);
      expect(rows.some((r) => eligible(r.prompt!)), file).toBe(true);
      for (const r of rows) expect(checkResponse(r.prompt!, r.chosen!).correct, r.prompt).toBe(!eligible(r.prompt!));
    }
    for (const r of readRows(d.sftFile).filter((row) => eligible(row.prompt!))) {
      expect([verdict(r.chosen_judgment!), verdict(r.rejected_judgment!)]).toEqual(['wrong', 'wrong']);
      expect(Math.abs(score(r.chosen_judgment!) - score(r.rejected_judgment!))).toBeLessThanOrEqual(2);
    }
  });

  it('with a case-blind teacher, judges a case slip correct, in full pairs and partial ones', () => {
    const d = writeDemoData(join(root, 'blind'), { ...options, sftPairs: 300, teacherIgnoresCase: true, partialShare: 0.5 });
    const isSlip = (r: Record<string, string>, side: 'chosen' | 'rejected') => {
      const c = checkResponse(r.prompt!, r[side]!);
      return !c.correct && c.got.toLowerCase() === c.expected.toLowerCase();
    };
    const rows = readRows(d.sftFile);
    const slipChosen = rows.filter((r) => isSlip(r, 'chosen')), slipRejected = rows.filter((r) => isSlip(r, 'rejected'));
    expect(slipChosen.length).toBeGreaterThan(10);
    expect(slipRejected.length).toBeGreaterThan(3);
    for (const r of slipChosen) expect(verdict(r.chosen_judgment!)).toBe('correct');
    for (const r of slipRejected) expect(verdict(r.rejected_judgment!)).toBe('correct');
    // Every other response is judged as the rule says (no flips in these options).
    for (const r of rows.filter((row) => !isSlip(row, 'rejected'))) expect(verdict(r.rejected_judgment!)).toBe('wrong');
  });

  it('passes the teacher score settings through', () => {
    const d = writeDemoData(join(root, 'scores'), { ...options, teacherJitter: 0, teacherScores: { correct: 7, wrong: 3 } });
    const scores = readRows(d.sftFile).flatMap((r) => [r.chosen_judgment!, r.rejected_judgment!].map((j) => /<answer>(\d+)<\/answer>$/.exec(j)![1]));
    expect(new Set(scores)).toEqual(new Set(['7', '3']));
  });

  it('names a misspelt kind at once instead of oversampling for it', () => {
    const bad = (extra: object) => () => writeDemoData(join(root, 'bad'), { ...options, ...extra });
    expect(bad({ kinds: ['first_letter', 'char-at'] })).toThrow(/unknown kinds first_letter; the synthetic family's kinds are .*first-letter/);
    expect(bad({ kinds: [] })).toThrow(/kinds is empty/);
    expect(bad({ teacherFlipByKind: { 'char_at': 0.5 } })).toThrow(/teacherFlipByKind names unknown kinds char_at/);
    expect(bad({ kinds: ['char-at'], taskWeights: { code: 0 } })).toThrow(/every kind asked for \(char-at\) belongs to a task whose taskWeights entry is 0/);
  });
});
