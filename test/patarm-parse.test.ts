import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { extractCriteria, parseJudgment, type ParseJudgmentOptions } from '../src/patarm/index.js';

interface CorpusCase {
  name: string;
  mode: 'pointwise' | 'pairwise';
  text: string;
  options?: ParseJudgmentOptions;
  expect: { ok: true; score?: number; verdict?: 'A' | 'B'; criteria?: string[] } | { ok: false; error: string };
}

const corpus = JSON.parse(
  readFileSync(new URL('./fixtures/patarm/hostile-judgments.json', import.meta.url), 'utf8'),
) as { judgments: CorpusCase[] };

describe('parseJudgment: hostile and malformed corpus', () => {
  it('has at least 30 cases, most of them failures', () => {
    expect(corpus.judgments.length).toBeGreaterThanOrEqual(30);
    expect(corpus.judgments.filter((c) => !c.expect.ok).length).toBeGreaterThanOrEqual(30);
  });

  for (const c of corpus.judgments) {
    it(c.name, () => {
      const result = parseJudgment(c.text, c.mode, c.options);
      if (!c.expect.ok) {
        expect(result.ok, JSON.stringify(result)).toBe(false);
        if (!result.ok) {
          expect(result.error).toBe(c.expect.error);
          expect(result.detail.length).toBeGreaterThan(0);
        }
        return;
      }
      expect(result.ok, JSON.stringify(result)).toBe(true);
      if (!result.ok) return;
      if (c.expect.score !== undefined) {
        expect(result.mode).toBe('pointwise');
        if (result.mode === 'pointwise') expect(Object.is(result.score, c.expect.score)).toBe(true);
      }
      if (c.expect.verdict !== undefined) {
        expect(result.mode).toBe('pairwise');
        if (result.mode === 'pairwise') expect(result.verdict).toBe(c.expect.verdict);
      }
      if (c.expect.criteria !== undefined) expect(result.criteria).toEqual(c.expect.criteria);
    });
  }
});

describe('parseJudgment: details', () => {
  it('returns the reasoning of the think blocks and the raw answer text', () => {
    const r = parseJudgment('<think>\nstep one\n</think>\nok\n<answer> 7 </answer>', 'pointwise');
    expect(r).toMatchObject({ ok: true, score: 7, answerText: '7', reasoning: 'step one' });
  });

  it('has no criteria field when the output has no criteria section', () => {
    const r = parseJudgment('Good answer.\n<answer>7</answer>', 'pointwise');
    expect(r.ok && r.criteria).toBe(undefined);
  });

  it('an orphan </think> is plain text when thinking is off', () => {
    // With thinking off nothing before </think> is reasoning, so the answer before it is visible
    // and followed by text.
    const text = '<answer>9</answer></think>';
    expect(parseJudgment(text, 'pointwise', { thinking: false })).toMatchObject({ ok: false, error: 'answer_not_at_end' });
    expect(parseJudgment(text, 'pointwise', { thinking: true })).toMatchObject({ ok: false, error: 'no_answer' });
  });

  it('reads criteria only outside the think block', () => {
    const text = '<think>\nCriteria:\n- hidden\n</think>\nCriteria:\n- visible\n<answer>5</answer>';
    expect(parseJudgment(text, 'pointwise')).toMatchObject({ ok: true, criteria: ['visible'] });
  });

  it('honours a custom score range', () => {
    expect(parseJudgment('<answer>5</answer>', 'pointwise', { minScore: 1, maxScore: 5 })).toMatchObject({ ok: true, score: 5 });
    expect(parseJudgment('<answer>6</answer>', 'pointwise', { minScore: 1, maxScore: 5 })).toMatchObject({
      ok: false,
      error: 'out_of_range',
    });
  });

  it('checks the range on the written digits, not on their rounded float', () => {
    // Number() rounds each of these onto a bound of the range.
    for (const text of ['10.00000000000000001', '-0.' + '0'.repeat(330) + '1']) {
      expect(parseJudgment(`<answer>${text}</answer>`, 'pointwise')).toMatchObject({ ok: false, error: 'out_of_range' });
    }
    for (const [text, score] of [['10.000000000000000000', 10], ['-0.000', 0], ['9.99999999999999999', 10]] as const) {
      expect(parseJudgment(`<answer>${text}</answer>`, 'pointwise')).toMatchObject({ ok: true, score });
    }
    expect(parseJudgment('<answer>0.49999999999999999</answer>', 'pointwise', { minScore: 0.5, maxScore: 5 })).toMatchObject({ ok: false, error: 'out_of_range' });
    expect(parseJudgment('<answer>0.50</answer>', 'pointwise', { minScore: 0.5, maxScore: 5 })).toMatchObject({ ok: true, score: 0.5 });
  });

  it('rejects an invalid range', () => {
    expect(() => parseJudgment('<answer>5</answer>', 'pointwise', { minScore: 5, maxScore: 1 })).toThrow(/range/);
  });
});

describe('extractCriteria', () => {
  it('ends the list at a marker followed by whitespace alone, at any length', () => {
    // A degenerate rollout can hold 100k spaces after a marker; the item pattern must not backtrack
    // over them quadratically (it took minutes at this length).
    const text = `Criteria:\n- kept  \n-${' '.repeat(200_000)}\n<answer>5</answer>`;
    expect(parseJudgment(text, 'pointwise', { thinking: false })).toMatchObject({ ok: true, criteria: ['kept'] });
  });

  it('takes bullet items after a criteria heading, with continuation lines and blank lines', () => {
    const text = [
      'Some evaluation first.',
      '**Instance-specific criteria:**',
      '',
      '- Handles empty input',
      '  without crashing',
      '',
      '* Uses O(n) memory',
      '• Names variables clearly',
      'Evaluation: the code is fine.',
      '- not a criterion',
    ].join('\n');
    expect(extractCriteria(text)).toEqual(['Handles empty input without crashing', 'Uses O(n) memory', 'Names variables clearly']);
  });

  it('returns [] for a heading without items and undefined without heading', () => {
    expect(extractCriteria('Rubric:\nno list here')).toEqual([]);
    expect(extractCriteria('- a bullet\n- another')).toBe(undefined);
  });

  it('skips a heading with no items and uses the next one', () => {
    expect(extractCriteria('About the rubric:\nprose\n### Criteria\n1. first')).toEqual(['first']);
  });

  it('does not take a sentence that mentions the rubric for a heading', () => {
    expect(extractCriteria('The response meets the rubric well.\n- fast\n- clear')).toBe(undefined);
    expect(extractCriteria('**Generated rubric**\n- fast')).toEqual(['fast']);
  });
});
