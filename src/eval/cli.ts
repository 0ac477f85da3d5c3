/**
 * The evaluation command: load a benchmark, get judgments (generated now by an injected judge, or
 * read from a file written elsewhere), score them, print Table 1 and the details, and write
 * results.json and results.html. eval.js (the lead's) calls runEvalCli with the GPU judge;
 * `--judgments` mode needs no judge at all.
 *
 * Exit codes: 0 done, 1 bad data or a failed run (message on stderr, nothing half-written),
 * 2 bad arguments (message and usage on stderr).
 */
import { mkdirSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { GpuOutOfMemoryError } from '../gpu/errors.js';
import { pathKind } from '../io/path-kind.js';
import { loadBenchmark, type LoadedBenchmark } from './benchmark.js';
import { trainedTemplateWarnings } from './trained-template.js';
import { EVAL_USAGE, EvalUsageError, parseEvalArgs, type EvalCliOptions } from './cli-args.js';
import { buildItems, itemKeysOf, type EvalMode, type JudgingItem } from './items.js';
import { checkSavedJudgments, runEvaluation, type JudgeFn, type JudgingSetup } from './judge.js';
import { describeLineProblems, readJudgmentsFile, type JudgmentRecord } from './judgments.js';
import { createJudgingProgress } from './progress.js';
import { formatTerminalReport, judgmentWarnings } from './report.js';
import { writeResultsHtml } from './report-html.js';
import { loadRubricFile } from '../patarm/index.js';
import { buildResults, writeResultsJson, type DecodingOptions, type EvalConfig, type EvalRunSummary, type JudgmentsFileSummary } from './results.js';
import { scoreEvaluation } from './score.js';

/**
 * Builds the judge for a model folder (the GPU judge in eval.js, a fake in tests); `generation`
 * sizes how many sequences it decodes together.
 */
export type MakeJudge = (modelDir: string, decoding: DecodingOptions, generation: { kvBudgetBytes: number }) => Promise<JudgeFn>;

export interface EvalCliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

const SKIPPED_ROWS_SHOWN = 5;

function dataWarnings(benchmark: LoadedBenchmark): string[] {
  const warnings = [...benchmark.warnings];
  const skipped = benchmark.skipped;
  if (skipped.length > 0) {
    const more = skipped.length > SKIPPED_ROWS_SHOWN ? `; the first ${SKIPPED_ROWS_SHOWN} follow, all are listed in results.json` : '';
    warnings.push(`${skipped.length} row(s) of ${benchmark.file} skipped${more}`);
    for (const s of skipped.slice(0, SKIPPED_ROWS_SHOWN)) warnings.push(`skipped ${s.where}: ${s.reason}`);
  }
  return warnings;
}

interface Judged {
  records: JudgmentRecord[];
  mode: EvalMode;
  k: number;
  items: JudgingItem[];
  run: EvalRunSummary | null;
  judgmentsFile: JudgmentsFileSummary | null;
  warnings: string[];
}

function readExistingJudgments(options: EvalCliOptions, makeItems: (mode: EvalMode) => JudgingItem[]): Judged {
  const path = options.judgments!;
  const parsed = readJudgmentsFile(path, { defaultMode: options.mode ?? 'pointwise' });
  const warnings = describeLineProblems(path, parsed.problems);
  if (parsed.partialLastLine) warnings.push(`${path}: the last line is cut short (no newline, not JSON); ignored`);
  if (parsed.records.length === 0) throw new Error(`${path} holds no readable judgment${parsed.problems.length > 0 ? `: ${warnings[0]}` : ''}`);
  // Without --mode, the file decides: pairwise when every judgment in it is.
  const mode = options.mode ?? (parsed.records.every((r) => r.mode === 'pairwise') ? 'pairwise' : 'pointwise');
  const items = makeItems(mode);
  const keys = new Set(items.map((i) => i.key));
  const drawsFound = parsed.records.filter((r) => keys.has(r.key) && r.mode === mode).reduce((max, r) => Math.max(max, r.draw + 1), 1);
  return {
    records: parsed.records,
    mode,
    k: options.k ?? drawsFound,
    items,
    run: null,
    judgmentsFile: { path, lines: parsed.records.length + parsed.problems.length, problems: parsed.problems, partialLastLine: parsed.partialLastLine },
    warnings,
  };
}

async function generateJudgments(options: EvalCliOptions, items: JudgingItem[], makeJudge: MakeJudge | undefined, io: EvalCliIo): Promise<Judged> {
  if (makeJudge === undefined) {
    throw new EvalUsageError('judging with --model needs the GPU judge (run eval.js); to score judgments made elsewhere use --judgments FILE');
  }
  const k = options.k ?? 1;
  // The absolute folder: the same model named from another directory is the same judge.
  const judging: JudgingSetup = { model: resolve(options.model!), decoding: options.decoding };
  // Refuse a saved file of another setup before the model is loaded, not after.
  if (options.saveJudgments !== undefined) checkSavedJudgments(options.saveJudgments, items, judging);
  const judge = await makeJudge(options.model!, options.decoding, { kvBudgetBytes: options.kvMemoryBytes });
  const progress = createJudgingProgress({ stream: io.stderr });
  const started = Date.now();
  let run;
  try {
    run = await runEvaluation({
      items,
      judge,
      k,
      batchSize: options.batchSize,
      seed: options.decoding.seed,
      ...(options.saveJudgments !== undefined ? { savedJudgments: options.saveJudgments, judging } : {}),
      onProgress: (p) => progress.update(p),
    });
  } finally {
    progress.stop();
  }
  const warnings: string[] = [];
  if (run.saved) {
    warnings.push(...describeLineProblems(run.saved.path, run.saved.problems));
    if (run.saved.droppedPartialLine) warnings.push(`${run.saved.path}: removed a last line cut short by an earlier run`);
    if (run.saved.foreignRecords > 0) warnings.push(`${run.saved.path}: ${run.saved.foreignRecords} line(s) belong to other items or another mode; kept in the file, not used`);
  }
  return {
    records: run.records,
    mode: options.mode ?? 'pointwise',
    k,
    items,
    run: { resumedItems: run.resumedItems, judgedItems: run.judgedItems, judgeCalls: run.judgeCalls, seconds: (Date.now() - started) / 1000 },
    judgmentsFile: null,
    warnings,
  };
}

/**
 * null when `dir` is a folder or can be made one; else the file that stands where `dir` or one of
 * the folders above it should be (the nearest existing path on the way up).
 */
function notAFolder(dir: string): string | null {
  let p = resolve(dir);
  while (pathKind(p) === 'missing' && dirname(p) !== p) p = dirname(p);
  return pathKind(p) === 'file' ? p : null;
}

/**
 * Before any work: --out and --html must not exist (unless --replace) and their folders must be
 * folders (made now if missing), so a judging run of hours never ends in a result it cannot write.
 */
function prepareOutputs(options: EvalCliOptions): void {
  for (const [option, path] of [['out', options.out], ['html', options.html]] as const) {
    const kind = pathKind(path);
    if (kind !== 'missing') {
      if (kind === 'dir') throw new Error(`cannot write results to ${path}: it is a folder`);
      if (!options.replace) throw new EvalUsageError(`--${option} ${path} exists (replace it with --replace, or give another --${option})`);
    }
    const dir = dirname(resolve(path));
    let blocker: string | null;
    try {
      blocker = notAFolder(dir);
      if (blocker === null) mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw new Error(`cannot write results to ${path}: ${(err as Error).message}`);
    }
    if (blocker !== null) throw new Error(`cannot write results to ${path}: ${blocker} is not a folder`);
  }
}

async function evaluate(options: EvalCliOptions, makeJudge: MakeJudge | undefined, io: EvalCliIo): Promise<void> {
  prepareOutputs(options);
  const benchmark = await loadBenchmark(options.data, options.format, {
    ...(options.dataFormat ? { fileFormat: options.dataFormat } : {}),
    ...(options.layout ? { layout: options.layout } : {}),
  });
  const warnings = dataWarnings(benchmark);
  if (options.model !== undefined) {
    warnings.push(...trainedTemplateWarnings(options.model, { chatTemplate: options.chatTemplate, thinking: options.thinking, ...(options.rubrics ? { rubrics: options.rubrics } : {}) }));
  }
  for (const w of warnings) io.stderr.write(`eval: ${w}\n`);
  const examples = options.limit !== undefined ? benchmark.examples.slice(0, options.limit) : benchmark.examples;
  const template = { chatTemplate: options.chatTemplate ? { enableThinking: options.thinking } : (false as const) };
  const rubrics = options.rubrics !== undefined ? loadRubricFile(options.rubrics) : undefined;
  const makeItems = (mode: EvalMode) => buildItems(examples, { mode, seed: options.decoding.seed, template, ...(rubrics ? { rubrics } : {}) });

  const judged = options.judgments !== undefined
    ? readExistingJudgments(options, makeItems)
    : await generateJudgments(options, makeItems(options.mode ?? 'pointwise'), makeJudge, io);
  warnings.push(...judged.warnings);

  const allKeys = new Set(benchmark.examples.flatMap((e) => itemKeysOf(e, judged.mode)));
  const scores = scoreEvaluation(judged.items, judged.records, {
    format: options.format,
    mode: judged.mode,
    k: judged.k,
    voting: options.voting,
    parse: { thinking: options.thinking },
    allKeys,
  });
  const coverage = { examples: benchmark.examples.length, evaluatedExamples: examples.length };
  warnings.push(...judgmentWarnings(scores, coverage));
  if (scores.judgedExamples === 0) {
    const sample = judged.items[0]?.key;
    throw new Error(
      `no example could be scored: none has a judgment for any of its items. ` +
        `Check that the judgments match --data, --format and --mode (${judged.mode}); item keys look like '${sample}'.` +
        (warnings.length > 0 ? ` ${warnings[warnings.length - 1]}` : ''),
    );
  }

  const config: EvalConfig = {
    label: options.label ?? (options.model !== undefined ? basename(options.model) : `judgments ${basename(options.judgments!)}`),
    data: options.data,
    format: options.format,
    fileFormat: benchmark.fileFormat,
    layout: options.format === 'pairs' ? (options.layout ?? 'pairs') : null,
    mode: judged.mode,
    k: judged.k,
    voting: options.voting,
    seed: options.decoding.seed,
    limit: options.limit ?? null,
    model: options.model ?? null,
    judgments: options.judgments ?? null,
    saveJudgments: options.saveJudgments ?? null,
    batchSize: options.model !== undefined ? options.batchSize : null,
    decoding: options.model !== undefined ? options.decoding : null,
    chatTemplate: options.chatTemplate,
    thinking: options.thinking,
    rubrics: options.rubrics ?? null,
  };
  const results = buildResults({
    config,
    data: { ...coverage, skippedRows: benchmark.skipped, warnings: benchmark.warnings },
    items: judged.items.length,
    run: judged.run,
    judgmentsFile: judged.judgmentsFile,
    scores,
    warnings,
  });
  // The table first: should a write still fail (a disk full, a folder removed meanwhile), the
  // scores of the run are on the terminal, not lost with the files.
  io.stdout.write(formatTerminalReport(results));
  for (const [path, write] of [[options.out, writeResultsJson], [options.html, writeResultsHtml]] as const) {
    try {
      write(path, results);
    } catch (err) {
      const written = path === options.html ? `; ${options.out} was written` : '';
      throw new Error(`cannot write results to ${path}: ${(err as Error).message} (the scores are printed above${written})`);
    }
  }
  io.stdout.write(`\nwrote ${options.out} and ${options.html}\n`);
}

/** Runs the evaluation command; resolves to the exit code. Never throws for bad input. */
export async function runEvalCli(argv: readonly string[], makeJudge?: MakeJudge, io: EvalCliIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  let options: EvalCliOptions | null;
  try {
    options = parseEvalArgs(argv);
  } catch (err) {
    io.stderr.write(`eval: ${(err as Error).message}\n\n${EVAL_USAGE}`);
    return 2;
  }
  if (options === null) {
    io.stdout.write(EVAL_USAGE);
    return 0;
  }
  try {
    await evaluate(options, makeJudge, io);
    return 0;
  } catch (err) {
    if (err instanceof EvalUsageError) {
      io.stderr.write(`eval: ${err.message}\n`);
      return 2;
    }
    const advice = err instanceof GpuOutOfMemoryError ? '; --weights bf16, --kv-dtype f16 and a lower --kv-memory take less' : '';
    io.stderr.write(`eval: ${(err as Error).message}${advice}\n`);
    return 1;
  }
}
