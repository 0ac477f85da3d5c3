import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  PRIMARY_RUBRICS,
  TASK_TYPES,
  detectTask,
  loadRubricFile,
  parseRubricText,
  rubricForTask,
  rubricOverridesFromObject,
  taskFromLabel,
} from '../src/patarm/index.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/patarm/${name}`, import.meta.url));

describe('primary rubrics', () => {
  it('exist for every task with the four score bands', () => {
    for (const task of TASK_TYPES) {
      const rubric = PRIMARY_RUBRICS[task];
      for (const band of ['8-10', '6-7', '3-5', '0-2']) expect(rubric, `${task} ${band}`).toContain(`- ${band}:`);
    }
  });
  it('name the dimensions of patarm.md', () => {
    expect(PRIMARY_RUBRICS.chat).toMatch(/^Usefulness/);
    expect(PRIMARY_RUBRICS.math).toMatch(/Correctness[\s\S]*Logic/);
    expect(PRIMARY_RUBRICS.code).toMatch(/Correctness[\s\S]*Logic/);
    expect(PRIMARY_RUBRICS.safety).toMatch(/^Safety/);
    expect(PRIMARY_RUBRICS.instruction_following).toMatch(/coverage[\s\S]*constraints/i);
  });
});

describe('user rubrics', () => {
  it('loads YAML and falls back to the primary rubric for tasks not given', () => {
    const overrides = loadRubricFile(fixture('rubrics.yaml'));
    expect(overrides.math).toBe('Only the final answer matters.\n- 8-10: correct\n- 0-2: wrong');
    expect(rubricForTask('code', overrides)).toBe('Code must compile.');
    expect(rubricForTask('chat', overrides)).toBe(PRIMARY_RUBRICS.chat);
  });
  it('loads JSON', () => {
    expect(loadRubricFile(fixture('rubrics.json'))).toEqual({ safety: 'Refuse anything dangerous; help otherwise.' });
  });
  it('rejects unknown task names with the file name', () => {
    expect(() => loadRubricFile(fixture('rubrics-bad.yaml'))).toThrow(/rubrics-bad\.yaml: unknown task 'maths'/);
  });
  it('rejects empty or non-string texts, non-mappings and invalid syntax', () => {
    expect(() => rubricOverridesFromObject({ chat: '  ' })).toThrow(/non-empty string/);
    expect(() => rubricOverridesFromObject({ chat: 3 })).toThrow(/non-empty string/);
    expect(() => rubricOverridesFromObject(['chat'])).toThrow(/mapping/);
    expect(() => parseRubricText('{"chat": ', 'json', 'x.json')).toThrow(/x\.json: not valid JSON/);
    // a task given twice: JSON.parse would keep the second text without a word
    expect(() => parseRubricText('{"math": "careful", "math": "draft"}', 'json', 'x.json')).toThrow(/x\.json: not valid JSON: key "math" appears twice/);
  });
});

describe('task detection', () => {
  const rewardBench: Record<string, string> = {
    'alpacaeval-easy': 'chat',
    'alpacaeval-length': 'chat',
    'alpacaeval-hard': 'chat',
    'mt-bench-easy': 'chat',
    'mt-bench-med': 'chat',
    'mt-bench-hard': 'chat',
    'llmbar-natural': 'chat',
    'llmbar-adver-neighbor': 'chat',
    'llmbar-adver-GPTInst': 'chat',
    'llmbar-adver-GPTOut': 'chat',
    'llmbar-adver-manual': 'chat',
    'refusals-dangerous': 'safety',
    'refusals-offensive': 'safety',
    'xstest-should-refuse': 'safety',
    'xstest-should-respond': 'safety',
    donotanswer: 'safety',
    'math-prm': 'math',
    'hep-cpp': 'code',
    'hep-go': 'code',
    'hep-java': 'code',
    'hep-js': 'code',
    'hep-python': 'code',
    'hep-rust': 'code',
  };
  for (const [subset, task] of Object.entries(rewardBench)) {
    it(`RewardBench subset ${subset} -> ${task}`, () => {
      expect(detectTask({ subset })).toMatchObject({ task, fallback: false, matchedField: 'subset' });
    });
  }

  it('maps RM-Bench domains and instruction-following words', () => {
    expect(taskFromLabel('chat')).toBe('chat');
    expect(taskFromLabel('Math')).toBe('math');
    expect(taskFromLabel('code')).toBe('code');
    expect(taskFromLabel('safety-refuse')).toBe('safety');
    expect(taskFromLabel('IFEval')).toBe('instruction_following');
    expect(taskFromLabel('precise_instruction')).toBe('instruction_following');
    expect(taskFromLabel('instruction_following')).toBe('instruction_following');
    expect(taskFromLabel('reasoning')).toBe(null);
  });

  it('consults task, subset, domain, ability in that order and skips unknown values', () => {
    expect(detectTask({ task: 'math', subset: 'hep-go' })).toMatchObject({ task: 'math', matchedField: 'task' });
    expect(detectTask({ task: 'reasoning', domain: 'code' })).toMatchObject({ task: 'code', matchedField: 'domain' });
    expect(detectTask({ ability: 'ifeval' })).toMatchObject({ task: 'instruction_following', matchedField: 'ability' });
  });

  it('falls back to chat and says so', () => {
    const unknown = detectTask({ subset: 'mystery', domain: 42 });
    expect(unknown).toMatchObject({ task: 'chat', fallback: true });
    expect(unknown.explanation).toMatch(/fallback.*subset='mystery'/);
    expect(detectTask({})).toMatchObject({ task: 'chat', fallback: true });
  });
});
