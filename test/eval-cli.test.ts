// End to end through runEvalCli: a fake judge in place of the GPU model, the --judgments mode on
// the hand-written files, resuming with --save-judgments, the outputs (terminal table,
// results.json, results.html), and bad input that must end in a clear message, not a crash.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parquetWriteFile } from 'hyparquet-writer';
import { GpuOutOfMemoryError } from '../src/gpu/errors.js';
import { afterAll, describe, expect, it } from 'vitest';
import { runEvalCli, type DecodingOptions, type EvalResults, type JudgeFn, type MakeJudge } from '../src/eval/index.js';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'eval');
const fixture = (name: string) => join(FIXTURES, name);
const dir = mkdtempSync(join(tmpdir(), 'patarm-eval-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

class Capture extends Writable {
  text = '';
  isTTY = false;
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

async function run(argv: string[], makeJudge?: MakeJudge): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await runEvalCli(argv, makeJudge, { stdout, stderr });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

const readResults = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as EvalResults;

/**
 * The fake judge: 6 for a right answer, 4 for a wrong one, plus 3 for the markdown style. So a
 * plain right answer (6) loses to a markdown wrong one (7): cells (0,2) and (1,2) are wrong, all
 * others right. Hard = 1/3, Normal = Easy = 1, Overall = 7/9 in every domain.
 */
type MadeJudge = { model: string; decoding: DecodingOptions; generation: { kvBudgetBytes: number } };
function fakeJudgeFactory(): { makeJudge: MakeJudge; prompts: string[]; made: MadeJudge[] } {
  const prompts: string[] = [];
  const made: MadeJudge[] = [];
  const makeJudge: MakeJudge = async (model, decoding, generation) => {
    made.push({ model, decoding, generation });
    const judge: JudgeFn = async (batch, { k }) => {
      prompts.push(...batch);
      return batch.map((p) => {
        const response = /<response>\n([\s\S]*)\n<\/response>/.exec(p)![1]!;
        const score = (response.startsWith('right') ? 6 : 4) + (response.includes('markdown') ? 3 : 0);
        return Array.from({ length: k }, () => `<think>compare</think>\nCriteria: fit.\n<answer>${score}</answer>`);
      });
    };
    return judge;
  };
  return { makeJudge, prompts, made };
}

describe('eval CLI with a fake judge', () => {
  const out = join(dir, 'gen', 'results.json');
  const saved = join(dir, 'gen', 'judgments.jsonl');
  const args = ['--data', fixture('rmbench.json'), '--format', 'rmbench', '--model', '/models/fake-8b', '--k', '3', '--voting', 'majority', '--temperature', '0.8', '--seed', '4', '--batch-size', '5', '--save-judgments', saved, '--out', out];

  it('judges, scores, prints Table 1 beside the paper, and writes results.json and results.html', async () => {
    const fake = fakeJudgeFactory();
    const { code, stdout, stderr } = await run(args, fake.makeJudge);
    expect(stderr).not.toMatch(/eval: [^'"]*Error/);
    expect(code).toBe(0);
    expect(fake.made).toEqual([{
      model: '/models/fake-8b', decoding: { temperature: 0.8, topP: 0.95, maxNewTokens: 4096, seed: 4 }, generation: { kvBudgetBytes: 4 * 1024 ** 3 },
    }]);
    expect(fake.prompts).toHaveLength(9 * 6);
    expect(stderr).toContain('judged 54/54 items (100%)');

    const results = readResults(out);
    const s = results.scores.score;
    if (s.kind !== 'rmbench') throw new Error('expected RM-Bench');
    for (const domain of ['chat', 'math', 'code', 'safety'] as const) {
      const m = s.domains[domain]!;
      expect(m.hard!.tiesWrong).toBeCloseTo(1 / 3, 12);
      expect([m.easy!.tiesWrong, m.normal!.tiesWrong]).toEqual([1, 1]);
      expect(m.matrix[0]![2]!.tiesWrong).toBe(0);
    }
    expect(s.overall!.overall!.tiesWrong).toBeCloseTo(7 / 9, 12);
    expect(results.scores.votingAtK.map((p) => p.majority!.tiesWrong)).toEqual([7 / 9, 7 / 9, 7 / 9].map((x) => expect.closeTo(x, 12)));
    expect(results.config).toMatchObject({ k: 3, voting: 'majority', mode: 'pointwise', label: 'fake-8b', seed: 4 });
    expect(results.run).toMatchObject({ resumedItems: 0, judgedItems: 54, judgeCalls: 11 });
    expect(results.table1.ours.rmBench.hard).toBeCloseTo(100 / 3, 9);
    expect(results.data.skippedRows).toHaveLength(1);

    // Table 1: the paper's rows and ours, RM-Bench columns filled for ours.
    expect(stdout).toMatch(/PaTaRM-8B\s+87\.7\s+74\.3\s+87\.2\s+87\.8\s+84\.3 \|\s+82\.8\s+78\.7\s+74\.7\s+78\.7/);
    expect(stdout).toMatch(/fake-8b\s+-\s+-\s+-\s+-\s+- \|\s+100\.0\s+100\.0\s+33\.3\s+77\.8/);
    expect(stdout).toContain('voting@k');

    const html = readFileSync(join(dir, 'gen', 'results.html'), 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('voting@k');
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
  });

  it('hands --kv-memory to the judge it loads', async () => {
    const fake = fakeJudgeFactory();
    const { code } = await run(['--data', fixture('rmbench.json'), '--format', 'rmbench', '--model', 'm', '--limit', '1', '--kv-memory', '16GiB', '--out', join(dir, 'gen', 'kv.json')], fake.makeJudge);
    expect(code).toBe(0);
    expect(fake.made.map((m) => m.generation)).toEqual([{ kvBudgetBytes: 16 * 1024 ** 3 }]);
    expect(fake.made[0]!.decoding.kvCacheDtype).toBeUndefined();
    expect(readResults(join(dir, 'gen', 'kv.json')).config.decoding).not.toHaveProperty('kvCacheDtype');
  });

  it('adds what takes less memory to an out-of-memory error of the GPU judge', async () => {
    const makeJudge: MakeJudge = async () => { throw new GpuOutOfMemoryError('WebGPU: the GPU is out of memory (Allocation failed)'); };
    const { code, stderr } = await run(['--data', fixture('rmbench.json'), '--format', 'rmbench', '--model', 'm', '--limit', '1', '--out', join(dir, 'gen', 'oom.json')], makeJudge);
    expect(code).toBe(1);
    expect(stderr.endsWith('\neval: WebGPU: the GPU is out of memory (Allocation failed); --weights bf16, --kv-dtype f16 and a lower --kv-memory take less\n')).toBe(true);
  });

  it('hands --kv-dtype f16 to the judge as a decoding setting, recorded in the results and every saved judgment', async () => {
    const fake = fakeJudgeFactory();
    const out16 = join(dir, 'gen', 'kv16.json'), saved16 = join(dir, 'gen', 'kv16.jsonl');
    const base = ['--data', fixture('rmbench.json'), '--format', 'rmbench', '--model', 'm', '--limit', '1', '--out', out16, '--save-judgments', saved16];
    const { code } = await run([...base, '--kv-dtype', 'f16'], fake.makeJudge);
    expect(code).toBe(0);
    expect(fake.made.map((m) => m.decoding.kvCacheDtype)).toEqual(['f16']);
    expect(readResults(out16).config.decoding).toMatchObject({ kvCacheDtype: 'f16' });
    const lines = readFileSync(saved16, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line.judging.kvCacheDtype).toBe('f16');
    // Resumed with the f32 cache (into the same --out, so --replace), those lines are not reused.
    const f32 = await run([...base, '--replace'], fakeJudgeFactory().makeJudge);
    expect(f32.code).toBe(1);
    expect(f32.stderr).toMatch(/'kvCacheDtype' is "f16" there and is not a setting of this run/);
  });

  it('resumes from --save-judgments without judging again, and --judgments on that file agrees', async () => {
    const fake = fakeJudgeFactory();
    // The first test's --out again: --replace writes over it.
    const again = await run([...args, '--replace'], fake.makeJudge);
    expect(again.code).toBe(0);
    expect(fake.prompts).toHaveLength(0);
    expect(readResults(out).run).toMatchObject({ resumedItems: 54, judgedItems: 0 });

    const out2 = join(dir, 'gen', 'from-file.json');
    const scored = await run(['--data', fixture('rmbench.json'), '--format', 'rmbench', '--judgments', saved, '--voting', 'majority', '--out', out2]);
    expect(scored.code).toBe(0);
    const fromFile = readResults(out2);
    expect(fromFile.config.k).toBe(3); // the most draws found in the file
    expect(fromFile.scores.score).toEqual(readResults(out).scores.score);
  });

  it('refuses to resume from a file judged with other settings, before loading the model', async () => {
    const fake = fakeJudgeFactory();
    const before = readFileSync(saved, 'utf8');
    // --replace: the first test's --out exists; what is refused here is the saved file.
    const hotter = await run([...args.map((a) => (a === '0.8' ? '0.7' : a)), '--replace'], fake.makeJudge);
    expect(hotter.code).toBe(1);
    expect(hotter.stderr).toMatch(/judgments\.jsonl: the judgment of '[^']+' \(draw 0\) was made with a different judging setup: 'temperature' is 0\.8 there, 0\.7 in this run.*pass another --save-judgments file/);
    const templated = await run([...args, '--chat-template', '--replace'], fake.makeJudge);
    expect(templated.code).toBe(1);
    expect(templated.stderr).toMatch(/'promptSha256' is "[0-9a-f]{64}" there/);
    // An f16 KV cache samples other judgments than the f32 one these lines were made with.
    const halfCache = await run([...args, '--kv-dtype', 'f16', '--replace'], fake.makeJudge);
    expect(halfCache.code).toBe(1);
    expect(halfCache.stderr).toMatch(/different judging setup: 'kvCacheDtype' is absent there, "f16" in this run/);
    expect(fake.made).toEqual([]);
    expect(fake.prompts).toHaveLength(0);
    expect(readFileSync(saved, 'utf8')).toBe(before);
  });

  it('honours --limit and --mode pairwise', async () => {
    const fake = fakeJudgeFactory();
    const makeJudge: MakeJudge = async () => async (batch, { k }) => {
      fake.prompts.push(...batch);
      return batch.map(() => Array.from({ length: k }, () => '<answer>A</answer>'));
    };
    const out3 = join(dir, 'pairwise', 'results.json');
    const { code } = await run(['--data', fixture('rewardbench.jsonl'), '--format', 'rewardbench', '--model', 'm', '--mode', 'pairwise', '--limit', '4', '--out', out3], makeJudge);
    expect(code).toBe(0);
    expect(fake.prompts).toHaveLength(4);
    expect(fake.prompts.every((p) => p.includes('<responseA>'))).toBe(true);
    const results = readResults(out3);
    expect(results.scores.primary).toBe('tiesHalf');
    expect(results.data).toMatchObject({ examples: 12, evaluatedExamples: 4 });
  });

  it('reports a failing judge clearly and keeps what was saved', async () => {
    const file = join(dir, 'fail', 'judgments.jsonl');
    let calls = 0;
    const makeJudge: MakeJudge = async () => async (batch) => {
      if (++calls === 2) throw new Error('GPU device lost');
      return batch.map(() => ['<answer>5</answer>']);
    };
    const { code, stderr } = await run(['--data', fixture('rewardbench.jsonl'), '--format', 'rewardbench', '--model', 'm', '--batch-size', '4', '--save-judgments', file, '--out', join(dir, 'fail', 'r.json')], makeJudge);
    expect(code).toBe(1);
    expect(stderr).toContain('eval: GPU device lost');
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(4);
    expect(existsSync(join(dir, 'fail', 'r.json'))).toBe(false);
  });
});

describe('eval CLI on judgments made elsewhere', () => {
  it('scores the hand-written RewardBench judgments and reports the problems', async () => {
    const out = join(dir, 'rb', 'results.json');
    const { code, stdout, stderr } = await run(['--data', fixture('rewardbench.jsonl'), '--format', 'rewardbench', '--judgments', fixture('rewardbench-judgments.jsonl'), '--out', out, '--label', 'other-model']);
    expect(code).toBe(0);
    const results = readResults(out);
    const s = results.scores.score;
    if (s.kind !== 'rewardbench') throw new Error('expected RewardBench');
    const chat = 50 / 128;
    const reasoning = 656 / 1148;
    expect(s.overall!.tiesWrong).toBeCloseTo((chat + 0.5 + 1 + reasoning) / 4, 12);
    // Every section has missing subsets, so Table 1 shows none of ours; the details show them all.
    expect(results.table1.ours.rewardBench).toEqual({});
    expect(results.warnings.join('\n')).toMatch(/1 judgment\(s\) name items that are not in the data, e\.g\. 'ghost:chosen'/);
    expect(results.warnings.join('\n')).toMatch(/'my-custom-subset'/);
    expect(results.warnings.join('\n')).toMatch(/2 row\(s\) of .* skipped/);
    expect(stderr).toMatch(/rewardbench\.jsonl line 6: missing or null field 'rejected'/);
    expect(stdout).toMatch(/other-model\s+-\s+-\s+-\s+-\s+- \|/);
    expect(stdout).toMatch(/Chat\s+3\s+39\.1\s+58\.6\s+missing: alpacaeval-length/);
    // Overall's n counts the sections' examples, not my-custom-subset's (scored under "other").
    expect(stdout).toMatch(/Overall\s+11\s+61\.6\s+72\.7\s+mean of the 4 section\(s\) present, 17 subset\(s\) missing/);
    expect(results.warnings.join('\n')).toMatch(/17 subset\(s\) of the sections present are missing .*: Table 1 shows only whole sections and no RB Avg/);
    expect(stdout).toContain('my-custom-subset');
    expect(readFileSync(join(dir, 'rb', 'results.html'), 'utf8')).toContain('<svg');
  });

  it('reads RM-Bench from Parquet like JSON', async () => {
    const rows = JSON.parse(readFileSync(fixture('rmbench.json'), 'utf8')) as { id: string; prompt: string; chosen: string[]; rejected: string[]; domain: string }[];
    const usable = rows.filter((r) => r.chosen.length === 3);
    const parquet = join(dir, 'rmbench.parquet');
    parquetWriteFile({
      filename: parquet,
      columnData: [
        { name: 'id', data: usable.map((r) => r.id), type: 'STRING' },
        { name: 'prompt', data: usable.map((r) => r.prompt), type: 'STRING' },
        { name: 'chosen', data: usable.map((r) => r.chosen) },
        { name: 'rejected', data: usable.map((r) => r.rejected) },
        { name: 'domain', data: usable.map((r) => r.domain), type: 'STRING' },
      ],
    });
    const fromParquet = join(dir, 'pq.json');
    const fromJson = join(dir, 'js.json');
    expect((await run(['--data', parquet, '--format', 'rmbench', '--judgments', fixture('rmbench-judgments.jsonl'), '--out', fromParquet])).code).toBe(0);
    expect((await run(['--data', fixture('rmbench.json'), '--format', 'rmbench', '--judgments', fixture('rmbench-judgments.jsonl'), '--out', fromJson])).code).toBe(0);
    expect(readResults(fromParquet).scores.score).toEqual(readResults(fromJson).scores.score);
  });
});

describe('eval CLI bad input', () => {
  const rb = ['--data', fixture('rewardbench.jsonl'), '--format', 'rewardbench'];

  it.each([
    [['--format', 'rewardbench', '--judgments', 'x'], /--data FILE is required/],
    [['--data', 'x.jsonl', '--judgments', 'x', '--format', 'helm'], /--format must be one of rewardbench, rmbench, pairs; got 'helm'/],
    [[...rb, '--judgments', 'x', '--k', '0'], /--k must be an integer >= 1 \(in decimal digits\); got '0'/],
    [[...rb, '--judgments', 'x', '--top-p', '1.5'], /--top-p must be a decimal number in \(0, 1\]; got '1.5'/],
    [[...rb, '--judgments', 'x', '--temperature', '0x1'], /--temperature must be a decimal number >= 0; got '0x1'/],
    [[...rb, '--judgments', 'x', '--k', ' 3'], /--k must be an integer >= 1 \(in decimal digits\); got ' 3'/],
    [[...rb, '--judgments', 'x', '--k', '3', '--k', '4'], /--k is given more than once/],
    [[...rb, '--judgments', 'x', '--kv-memory', '16 bananas'], /--kv-memory: invalid byte size '16 bananas'/],
    [[...rb, '--judgments', 'x', '--kv-memory', '0GB'], /--kv-memory must be more than 0 bytes; got '0GB'/],
    [[...rb, '--judgments', 'x', '--kv-dtype', 'bf16'], /--kv-dtype must be one of f32, f16; got 'bf16'/],
    [[...rb, '--judgments', 'x', '--weights', 'f16'], /--weights must be one of f32, bf16; got 'f16'/],
    [[...rb, '--judgments', 'x', '--model', 'm'], /exactly one of --model DIR .* or --judgments FILE/],
    [[...rb, '--judgments', 'x', '--save-judgments', 'y'], /with --judgments nothing is generated/],
    [[...rb, '--model', 'm'], /needs the GPU judge/],
    [[...rb, '--judgments', 'x', '--frobnicate'], /Unknown option '--frobnicate'/],
    // A negative number is the option's value, refused by its own range check (not parseArgs' "ambiguous").
    [[...rb, '--judgments', 'x', '--limit', '-1'], /--limit must be an integer >= 1 \(in decimal digits\); got '-1'/],
    [[...rb, '--judgments', 'x', '--temperature', '-1'], /--temperature must be a decimal number >= 0; got '-1'/],
    [[...rb, '--judgments', 'x', '--top-p', '-.5'], /--top-p must be a decimal number in \(0, 1\]; got '-\.5'/],
  ])('rejects bad arguments with exit code 2: %j', async (argv, message) => {
    const { code, stderr } = await run(argv);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });

  it('says an RM-Bench file was given as RewardBench', async () => {
    const { code, stderr } = await run(['--data', fixture('rmbench.json'), '--format', 'rewardbench', '--judgments', fixture('rmbench-judgments.jsonl'), '--out', join(dir, 'bad1.json')]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/no usable rewardbench row in 10 row\(s\); the rows look like RM-Bench .*use --format rmbench/);
  });

  it('says a RewardBench file was given as RM-Bench', async () => {
    const { code, stderr } = await run(['--data', fixture('rewardbench.jsonl'), '--format', 'rmbench', '--judgments', fixture('rewardbench-judgments.jsonl'), '--out', join(dir, 'bad2.json')]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/the rows look like RewardBench\/preference pairs .*use --format rewardbench or pairs/);
  });

  it('names files that are not a data format', async () => {
    const csv = join(dir, 'data.csv');
    writeFileSync(csv, 'prompt,chosen,rejected\n');
    const object = join(dir, 'object.json');
    writeFileSync(object, JSON.stringify({ train: [] }));
    const jsonl = join(dir, 'lines.json');
    writeFileSync(jsonl, '{"prompt": "a"}\n{"prompt": "b"}\n');
    const judged = ['--format', 'rewardbench', '--judgments', fixture('rewardbench-judgments.jsonl')];
    expect((await run(['--data', csv, ...judged])).stderr).toMatch(/data\.csv: cannot tell the format from extension '\.csv'/);
    expect((await run(['--data', object, ...judged])).stderr).toMatch(/object\.json: expected a JSON array of examples, found an object with keys \[train\]/);
    expect((await run(['--data', jsonl, ...judged])).stderr).toMatch(/lines\.json: not valid JSON.*that is JSONL/);
    expect((await run(['--data', join(dir, 'missing.jsonl'), ...judged])).stderr).toMatch(/missing\.jsonl: cannot read the data file/);
    expect((await run([...rb, '--judgments', join(dir, 'nope.jsonl')])).stderr).toMatch(/cannot read judgments file .*nope\.jsonl/);
  });

  it('refuses a Parquet benchmark whose text is not UTF-8, as the training data loader does', async () => {
    const parquet = join(dir, 'latin1.parquet');
    parquetWriteFile({
      filename: parquet,
      columnData: [
        { name: 'prompt', data: ['q'], type: 'STRING' },
        { name: 'chosen', data: [Uint8Array.from(Buffer.from('caf\u00e9', 'latin1'))], type: 'STRING' },
        { name: 'rejected', data: ['b'], type: 'STRING' },
        { name: 'subset', data: ['alpacaeval-easy'], type: 'STRING' },
      ],
    });
    const out = join(dir, 'latin1', 'results.json');
    const { code, stderr } = await run(['--data', parquet, '--format', 'rewardbench', '--judgments', fixture('rewardbench-judgments.jsonl'), '--out', out]);
    expect(code).toBe(1);
    expect(stderr).toContain(`${parquet}: a text column holds bytes that are not UTF-8; write the file with UTF-8 text`);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses to score judgments that match nothing in the data, writing no results', async () => {
    const out = join(dir, 'mismatch', 'results.json');
    const { code, stderr } = await run([...rb, '--judgments', fixture('rmbench-judgments.jsonl'), '--out', out]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/no example could be scored.*item keys look like 'ae1:chosen'/);
    expect(existsSync(out)).toBe(false);
  });

  it('passes over unreadable judgment lines, naming them', async () => {
    const file = join(dir, 'some-bad-lines.jsonl');
    writeFileSync(file, readFileSync(fixture('rewardbench-judgments.jsonl'), 'utf8').replace('{"key": "ae1:rejected"', 'oops {"key": "ae1:rejected"'));
    const out = join(dir, 'bad-lines.json');
    const { code, stdout } = await run([...rb, '--judgments', file, '--out', out]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/some-bad-lines\.jsonl line 2: not valid JSON/);
    // ae1 lost its rejected judgment: a failed judgment, so its comparison counts as unparseable and it is said so.
    const results = readResults(out);
    expect(results.scores).toMatchObject({ judgedExamples: 12, unjudgedExamples: 0 });
    expect(results.scores.counts).toMatchObject({ comparisons: 12, unparseable: 2 });
    expect(stdout).toMatch(/1 item\(s\) of scored examples have no judgment, e\.g\. 'ae1:rejected'; their comparisons count as unparseable/);
  });
});

describe('eval CLI reports of plain pairs', () => {
  it('leave our row out of Table 1 in the HTML as in the terminal (pairs have no Table 1 columns)', async () => {
    const out = join(dir, 'pairs-report', 'results.json');
    const { code, stdout } = await run(['--data', fixture('pairs.jsonl'), '--format', 'pairs', '--judgments', fixture('pairs-judgments.jsonl'), '--label', 'mine', '--out', out]);
    expect(code).toBe(0);
    const html = readFileSync(join(dir, 'pairs-report', 'results.html'), 'utf8');
    expect(html).not.toContain('<tr class="ours">');
    expect(stdout.split('\n').some((l) => l.startsWith('mine '))).toBe(false);
    // A benchmark's report keeps it.
    const rb = join(dir, 'pairs-report', 'rb.json');
    expect((await run(['--data', fixture('rewardbench.jsonl'), '--format', 'rewardbench', '--judgments', fixture('rewardbench-judgments.jsonl'), '--out', rb])).code).toBe(0);
    expect(readFileSync(join(dir, 'pairs-report', 'rb.html'), 'utf8')).toContain('<tr class="ours">');
  });
});

describe('eval CLI on one response per row (--layout row-pairs)', () => {
  it('scores the rows of a pairs file written one response per row exactly as the pairs, and records the layout', async () => {
    const pairs = readFileSync(fixture('pairs.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const rowsFile = join(dir, 'row-pairs', 'rows.jsonl');
    mkdirSync(join(dir, 'row-pairs'), { recursive: true });
    writeFileSync(rowsFile, pairs.flatMap((p) => [p.chosen, p.rejected].map((response) => JSON.stringify({ id: p.id, prompt: p.prompt, response, task: p.task }) + '\n')).join(''));
    const judged = ['--format', 'pairs', '--judgments', fixture('pairs-judgments.jsonl')];
    const [asPairs, asRows] = [join(dir, 'row-pairs', 'pairs.json'), join(dir, 'row-pairs', 'rows.json')];
    expect((await run(['--data', fixture('pairs.jsonl'), ...judged, '--out', asPairs])).code).toBe(0);
    expect((await run(['--data', rowsFile, ...judged, '--layout', 'row-pairs', '--out', asRows])).code).toBe(0);
    const [a, b] = [readResults(asPairs), readResults(asRows)];
    expect(b.scores).toEqual(a.scores);
    expect([a.config.layout, b.config.layout]).toEqual(['pairs', 'row-pairs']);
    // Read as pairs, the rows are no pairs at all.
    const { code, stderr } = await run(['--data', rowsFile, ...judged, '--out', join(dir, 'row-pairs', 'wrong.json')]);
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/no usable pairs row in 10 row\(s\).*missing or null field 'chosen' and 'rejected'/);
    expect((await run(['--data', fixture('rmbench.json'), '--format', 'rmbench', '--judgments', fixture('rmbench-judgments.jsonl'), '--layout', 'row-pairs'])).stderr).toMatch(
      /--layout is for --format pairs; rmbench files have their own layout/,
    );
  });
});

describe('eval CLI on a checkpoint of train.js', () => {
  it('names each template setting the evaluation renders differently from the training run (config.yaml beside the checkpoint)', async () => {
    const runDir = join(dir, 'trained');
    const checkpoint = join(runDir, 'step-grpo-000040');
    mkdirSync(checkpoint, { recursive: true });
    writeFileSync(join(checkpoint, 'trainer_state.json'), '{}');
    const rubrics = join(runDir, 'rubrics.json');
    writeFileSync(rubrics, JSON.stringify({ chat: 'Check the letter.' }));
    const copy = join(dir, 'rubrics-copy.json');
    writeFileSync(copy, readFileSync(rubrics));
    writeFileSync(join(runDir, 'config.yaml'), `template:\n  chat: true\n  thinking: false\n  rubricsFile: ${rubrics}\n`);
    const evalRun = async (extra: string[]) => {
      const out = join(runDir, `r-${Math.random().toString(36).slice(2)}.json`);
      const { code, stderr } = await run(['--data', fixture('pairs.jsonl'), '--format', 'pairs', '--model', checkpoint, '--limit', '1', '--out', out, ...extra], fakeJudgeFactory().makeJudge);
      expect(code).toBe(0);
      return { stderr, warnings: readResults(out).warnings };
    };
    const mismatched = await evalRun([]);
    const trained = `${checkpoint} was trained (${join(runDir, 'config.yaml')})`;
    const expected = [
      `${trained} on the chat template, and this evaluation renders raw tagged text: add --chat-template`,
      `${trained} with the rubrics of ${rubrics}, and this evaluation renders the paper's primary rubrics: pass --rubrics ${rubrics}`,
    ];
    expect(mismatched.warnings).toEqual(expect.arrayContaining(expected));
    for (const w of expected) expect(mismatched.stderr).toContain(`eval: ${w}`);
    // The chat template with the default thinking on: the empty think block of thinking off is missing.
    expect((await evalRun(['--chat-template', '--rubrics', copy])).warnings).toEqual(
      expect.arrayContaining([`${trained} with thinking off, and this evaluation has it on: pass --thinking off`]),
    );
    // A rubric path relative to where training ran, not found from here: said, not guessed.
    writeFileSync(join(runDir, 'config.yaml'), `template:\n  chat: true\n  thinking: false\n  rubricsFile: runs/elsewhere/rubrics.json\n`);
    expect((await evalRun(['--chat-template', '--thinking', 'off', '--rubrics', copy])).warnings).toEqual(
      expect.arrayContaining([`${trained} with the rubrics of runs/elsewhere/rubrics.json, which is not found from here: whether --rubrics ${copy} holds the same ones is not checked`]),
    );
    writeFileSync(join(runDir, 'config.yaml'), `template:\n  chat: true\n  thinking: false\n  rubricsFile: ${rubrics}\n`);
    // As trained (a copy of the rubric file is the same rubrics): nothing to say.
    const matched = await evalRun(['--chat-template', '--thinking', 'off', '--rubrics', copy]);
    expect(matched.warnings.filter((w) => w.includes('was trained'))).toEqual([]);
    expect(matched.stderr).not.toContain('was trained');
  });
});

describe('eval CLI rubrics', () => {
  it('renders the prompts with --rubrics in place of the primary rubric of each task it names, and records the file', async () => {
    const rubrics = join(dir, 'rubrics', 'judge-rubrics.yaml');
    mkdirSync(join(dir, 'rubrics'), { recursive: true });
    writeFileSync(rubrics, 'math: Check every step of the arithmetic.\n');
    const out = join(dir, 'rubrics', 'results.json');
    const fake = fakeJudgeFactory();
    const { code } = await run(['--data', fixture('rmbench.json'), '--format', 'rmbench', '--model', '/models/fake', '--rubrics', rubrics, '--out', out], fake.makeJudge);
    expect(code).toBe(0);
    const math = fake.prompts.filter((p) => p.startsWith('<task>math</task>'));
    const others = fake.prompts.filter((p) => !p.startsWith('<task>math</task>'));
    expect(math.length).toBeGreaterThan(0);
    expect(others.length).toBeGreaterThan(0);
    for (const p of math) expect(p).toContain('<rubrics>\nCheck every step of the arithmetic.\n</rubrics>');
    for (const p of others) expect(p).not.toContain('Check every step of the arithmetic.');
    expect(readResults(out).config.rubrics).toBe(rubrics);

    writeFileSync(rubrics, 'maths: Check the arithmetic.\n');
    const bad = await run(['--data', fixture('rmbench.json'), '--format', 'rmbench', '--model', '/models/fake', '--rubrics', rubrics, '--out', join(dir, 'rubrics', 'bad.json')], fakeJudgeFactory().makeJudge);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/judge-rubrics\.yaml: unknown task 'maths'/);
  });
});

describe('eval CLI output paths', () => {
  it('refuses two options naming the same file, before anything is written over', async () => {
    const saved = join(dir, 'same', 'judgments.jsonl');
    const results = join(dir, 'same', 'results.json');
    const gen = ['--data', fixture('rmbench.json'), '--format', 'rmbench', '--model', '/models/fake'];
    const cases: [string[], RegExp][] = [
      [[...gen, '--out', results, '--html', results], /--out and --html name the same file/],
      [[...gen, '--save-judgments', saved, '--out', saved], /--out and --save-judgments name the same file/],
      [['--data', fixture('rmbench.json'), '--format', 'rmbench', '--judgments', results, '--out', results], /--out and --judgments name the same file/],
      [[...gen, '--out', fixture('rmbench.json')], /--data and --out name the same file/],
    ];
    for (const [argv, message] of cases) {
      const { makeJudge, made } = fakeJudgeFactory();
      const { code, stderr } = await run(argv, makeJudge);
      expect(code).toBe(2);
      expect(stderr).toMatch(message);
      expect(made).toHaveLength(0);
    }
    expect(existsSync(join(dir, 'same'))).toBe(false);
  });

  it('checks the folders of --out and --html before loading the model, naming what is not a folder', async () => {
    const file = join(dir, 'paths', 'afile');
    mkdirSync(join(dir, 'paths'), { recursive: true });
    writeFileSync(file, 'not a folder');
    const gen = ['--data', fixture('rmbench.json'), '--format', 'rmbench', '--model', '/models/fake'];
    for (const [extra, path] of [
      [['--out', join(file, 'r.json')], join(file, 'r.json')],
      [['--out', join(dir, 'paths', 'ok.json'), '--html', join(file, 'deeper', 'r.html')], join(file, 'deeper', 'r.html')],
    ] as const) {
      const { makeJudge, made, prompts } = fakeJudgeFactory();
      const { code, stderr } = await run([...gen, ...extra], makeJudge);
      expect(code).toBe(1);
      expect(stderr).toBe(`eval: cannot write results to ${path}: ${file} is not a folder\n`);
      expect([made, prompts]).toEqual([[], []]);
    }
    // A missing folder is made, as before.
    const nested = join(dir, 'paths', 'new', 'deep', 'r.json');
    expect((await run([...gen, '--limit', '1', '--out', nested], fakeJudgeFactory().makeJudge)).code).toBe(0);
    expect(existsSync(nested)).toBe(true);
  });

  it('prints the scores before writing the files, so a write that still fails loses nothing', async () => {
    const folder = join(dir, 'vanishing');
    const out = join(folder, 'r.json');
    const fake = fakeJudgeFactory();
    // The judge takes the folder away while it judges: a file now stands where it was.
    const makeJudge: MakeJudge = async (...made) => {
      const judge = await fake.makeJudge(...made);
      return async (batch, options) => {
        rmSync(folder, { recursive: true, force: true });
        writeFileSync(folder, 'in the way');
        return judge(batch, options);
      };
    };
    const { code, stdout, stderr } = await run(['--data', fixture('rmbench.json'), '--format', 'rmbench', '--model', '/models/fake-8b', '--out', out], makeJudge);
    expect(code).toBe(1);
    expect(stdout).toMatch(/fake-8b\s+-\s+-\s+-\s+-\s+- \|\s+100\.0\s+100\.0\s+33\.3\s+77\.8/);
    expect(stderr).toMatch(new RegExp(`eval: cannot write results to ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*\\(the scores are printed above\\)\\n$`));
  });

  it('refuses an existing --out or --html before any work, and writes over them with --replace', async () => {
    const out = join(dir, 'again', 'results.json');
    const html = join(dir, 'again', 'results.html');
    const gen = ['--data', fixture('rmbench.json'), '--format', 'rmbench', '--model', '/models/fake', '--limit', '1', '--out', out];
    expect((await run(gen, fakeJudgeFactory().makeJudge)).code).toBe(0);
    const first = readFileSync(out, 'utf8');
    const { makeJudge, made } = fakeJudgeFactory();
    const again = await run([...gen, '--label', 'second'], makeJudge);
    expect(again.code).toBe(2);
    expect(again.stderr).toBe(`eval: --out ${out} exists (replace it with --replace, or give another --out)\n`);
    expect(made).toHaveLength(0);
    expect(readFileSync(out, 'utf8')).toBe(first);
    // Scoring judgments made elsewhere is refused alike.
    const scored = await run(['--data', fixture('rmbench.json'), '--format', 'rmbench', '--judgments', fixture('rmbench-judgments.jsonl'), '--out', out]);
    expect(scored.code).toBe(2);
    expect(scored.stderr).toMatch(/--out .* exists \(replace it with --replace/);
    // The report alone is refused too.
    rmSync(out);
    const htmlOnly = await run([...gen, '--label', 'second'], makeJudge);
    expect(htmlOnly.code).toBe(2);
    expect(htmlOnly.stderr).toBe(`eval: --html ${html} exists (replace it with --replace, or give another --html)\n`);
    expect(existsSync(out)).toBe(false);
    const replaced = await run([...gen, '--label', 'second', '--replace'], makeJudge);
    expect(replaced.code).toBe(0);
    expect(readResults(out).config.label).toBe('second');
    expect(readFileSync(html, 'utf8')).toContain('second');
  });
});

describe('eval CLI Table 1 of a run cut by --limit', () => {
  it('leaves our RM-Bench figures out when --limit cut examples, even with every domain present', async () => {
    const out = join(dir, 'limited', 'results.json');
    // The first 7 of the 9 usable rows: every domain keeps an example (safety: safe1), poetry and safe2 are cut.
    const { code, stdout } = await run(['--data', fixture('rmbench.json'), '--format', 'rmbench', '--model', '/models/fake-8b', '--limit', '7', '--out', out], fakeJudgeFactory().makeJudge);
    expect(code).toBe(0);
    const results = readResults(out);
    expect(results.data).toMatchObject({ examples: 9, evaluatedExamples: 7 });
    const s = results.scores.score;
    if (s.kind !== 'rmbench') throw new Error('expected RM-Bench');
    expect(s.overall).toMatchObject({ domains: 4, complete: true });
    expect(results.table1.ours.rmBench).toEqual({});
    expect(results.table1.ours.note).toMatch(/partial: 7 of 9 examples evaluated \(--limit\); so no RM-Bench figures/);
    expect(stdout).toMatch(/fake-8b\s+-\s+-\s+-\s+-\s+- \|\s+-\s+-\s+-\s+-/);
    expect(stdout).toMatch(/only 7 of the 9 examples loaded were evaluated \(--limit\): Table 1 shows no RM-Bench figures/);
    expect(readFileSync(join(dir, 'limited', 'results.html'), 'utf8')).toContain('partial: 7 of 9 examples evaluated');
  });
});
