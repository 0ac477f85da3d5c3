/**
 * The terminal report: Table 1 laid out as in the paper (rows = models, the paper's beside ours),
 * then the details of the benchmark that was run (RewardBench subsets, RM-Bench domains and the
 * style matrix, or per-group accuracy of plain pairs), the other tie rule, the voting@k curve and
 * the counts (ties, unparseable judgments, format errors by code, data and judgment problems).
 */
import type { Accuracy } from './accuracy.js';
import type { Table1Row } from './paper.js';
import { describeShortSubsets, shortRewardBenchSubsets, table1Gaps, type EvalCoverage, type EvalResults } from './results.js';
import { REWARDBENCH_SECTIONS } from './rewardbench-sections.js';
import { RMBENCH_DOMAINS, RMBENCH_STYLES } from './rmbench-domains.js';
import type { EvaluationScores } from './score.js';
import type { MatrixScore } from './score-rmbench.js';
import { formatTextTable, pct } from './text-table.js';
import type { Metric } from './voting.js';

export const TABLE1_COLUMNS = ['RB Chat', 'Chat Hard', 'Safety', 'Reasoning', 'RB Avg', 'RMB Easy', 'Normal', 'Hard', 'RMB Avg'] as const;

export function table1Cells(row: Table1Row): string[] {
  const rb = row.rewardBench;
  const rm = row.rmBench;
  return [rb.chat, rb.chatHard, rb.safety, rb.reasoning, rb.avg, rm.easy, rm.normal, rm.hard, rm.avg].map(pct);
}

function variantName(variant: keyof Metric): string {
  return variant === 'tiesWrong' ? 'ties and unparseable judgments count as wrong' : 'ties and unparseable judgments count 1/2';
}

function otherVariant(variant: keyof Metric): keyof Metric {
  return variant === 'tiesWrong' ? 'tiesHalf' : 'tiesWrong';
}

const p = (m: Metric | null | undefined, v: keyof Metric) => pct(m ? m[v] * 100 : null);

function countsCell(a: Accuracy): string {
  return `${a.ties}/${a.unparseable}`;
}

function rewardBenchDetails(scores: EvaluationScores): string[] {
  const s = scores.score;
  if (s.kind !== 'rewardbench') return [];
  const v = scores.primary;
  const o = otherVariant(v);
  const rows = s.subsets.map((sub) => {
    const section = REWARDBENCH_SECTIONS.find((sec) => s.sections[sec]?.subsets.includes(sub.subset)) ?? '';
    return [sub.subset, section, String(sub.comparisons), p(sub, v), p(sub, o), countsCell(sub)];
  });
  for (const sub of s.other) rows.push([sub.subset, 'other', String(sub.comparisons), p(sub, v), p(sub, o), countsCell(sub)]);
  const lines = ['', 'RewardBench subsets', formatTextTable(['subset', 'section', 'n', 'acc', `acc (${o === 'tiesHalf' ? 'ties 1/2' : 'ties wrong'})`, 'ties/unparseable'], rows)];
  const sectionRows = REWARDBENCH_SECTIONS.map((sec) => {
    const score = s.sections[sec];
    return [sec, String(score?.examples ?? 0), p(score, v), p(score, o), score && score.missingSubsets.length > 0 ? `missing: ${score.missingSubsets.join(', ')}` : ''];
  });
  const present = REWARDBENCH_SECTIONS.flatMap((sec) => s.sections[sec] ?? []);
  // n of the sections' examples: "other" subsets are scored apart and are not in Overall.
  const overallN = present.reduce((n, sec) => n + sec.examples, 0);
  const missing = present.reduce((n, sec) => n + sec.missingSubsets.length, 0);
  const overallNote = s.overall && !s.overall.complete ? `mean of the ${s.overall.sections} section(s) present, ${missing} subset(s) missing` : '';
  sectionRows.push(['Overall', String(overallN), p(s.overall, v), p(s.overall, o), overallNote]);
  lines.push('', formatTextTable(['section', 'n', 'score', o === 'tiesHalf' ? 'ties 1/2' : 'ties wrong', 'note'], sectionRows, { leftAligned: [4] }));
  return lines;
}

function matrixLines(title: string, m: MatrixScore, v: keyof Metric): string[] {
  const rows = RMBENCH_STYLES.map((style, i) => [`chosen ${style}`, ...RMBENCH_STYLES.map((_, j) => p(m.matrix[i]![j], v))]);
  return ['', title, formatTextTable(['', ...RMBENCH_STYLES.map((s) => `rejected ${s}`)], rows)];
}

function rmBenchDetails(scores: EvaluationScores): string[] {
  const s = scores.score;
  if (s.kind !== 'rmbench') return [];
  const v = scores.primary;
  const o = otherVariant(v);
  const rowOf = (name: string, m: MatrixScore | null, variant: keyof Metric) => [
    name,
    String(m?.examples ?? 0),
    p(m?.easy, variant),
    p(m?.normal, variant),
    p(m?.hard, variant),
    p(m?.overall, variant),
    m ? `${m.counts.ties}/${m.counts.unparseable}` : '-',
  ];
  const rows = RMBENCH_DOMAINS.map((d) => rowOf(d, s.domains[d], v));
  for (const [name, m] of Object.entries(s.other)) rows.push(rowOf(`${name} (other)`, m, v));
  rows.push(rowOf('Overall (mean of domains)', s.overall, v));
  rows.push(rowOf('pooled over prompts', s.pooled, v));
  rows.push(rowOf(`Overall, ${o === 'tiesHalf' ? 'ties 1/2' : 'ties wrong'}`, s.overall, o));
  const lines = ['', 'RM-Bench by domain', formatTextTable(['domain', 'prompts', 'Easy', 'Normal', 'Hard', 'Overall', 'ties/unparseable comparisons'], rows)];
  if (s.overall) lines.push(...matrixLines('RM-Bench style matrix (mean of domains): rows chosen style, columns rejected style', s.overall, v));
  return lines;
}

function pairsDetails(scores: EvaluationScores): string[] {
  const s = scores.score;
  if (s.kind !== 'pairs') return [];
  const v = scores.primary;
  const o = otherVariant(v);
  const rows = Object.entries(s.groups).map(([group, a]) => [group, String(a.comparisons), p(a, v), p(a, o), countsCell(a)]);
  if (s.overall) rows.push(['all', String(s.overall.comparisons), p(s.overall, v), p(s.overall, o), countsCell(s.overall)]);
  return ['', 'Preference pairs by task', formatTextTable(['task', 'pairs', 'acc', o === 'tiesHalf' ? 'ties 1/2' : 'ties wrong', 'ties/unparseable'], rows)];
}

function votingLines(scores: EvaluationScores): string[] {
  if (scores.k === 1) return [];
  const v = scores.primary;
  const rows = scores.votingAtK.map((point) => [String(point.k), p(point.average, v), p(point.majority, v)]);
  return ['', `voting@k (headline score, ${variantName(v)})`, formatTextTable(['k', 'average', 'majority'], rows)];
}

function countLines(results: EvalResults): string[] {
  const s = results.scores;
  const d = s.draws;
  const codes = Object.entries(d.formatErrorsByCode).map(([code, n]) => `${code} ${n}`).join(', ');
  return [
    '',
    `examples: ${results.data.examples} loaded, ${s.judgedExamples} scored` +
      (s.unjudgedExamples > 0 ? `, ${s.unjudgedExamples} without judgments` : '') +
      (results.data.skippedRows.length > 0 ? `, ${results.data.skippedRows.length} row(s) skipped` : '') +
      (s.unjudgedItems > 0 ? `; ${s.unjudgedItems} item(s) of scored examples without judgments (unparseable)` : ''),
    `judgments: ${d.judgments} read, ${d.formatErrors} unparseable${codes ? ` (${codes})` : ''}` + (d.missingDraws > 0 ? `, ${d.missingDraws} draw(s) missing` : ''),
    `comparisons at k=${s.k}: ${s.counts.comparisons}, correct ${s.counts.correct}, wrong ${s.counts.wrong}, ties ${s.counts.ties}, unparseable ${s.counts.unparseable}`,
  ];
}

/**
 * The terminal's Table 1 has no note column: say there which of our cells are left out and why
 * (`table1Gaps`: a mean over part of the benchmark is not the paper's figure).
 */
function table1Warnings(scores: EvaluationScores, coverage?: EvalCoverage): string[] {
  const s = scores.score;
  if ((s.kind !== 'rewardbench' && s.kind !== 'rmbench') || table1Gaps(scores, coverage).length === 0) return [];
  const parts: string[] = [];
  if (s.kind === 'rewardbench') {
    const missingSections = REWARDBENCH_SECTIONS.filter((sec) => s.sections[sec] === null);
    if (missingSections.length > 0) {
      parts.push(`RewardBench covers ${REWARDBENCH_SECTIONS.length - missingSections.length} of ${REWARDBENCH_SECTIONS.length} sections (missing ${missingSections.join(', ')})`);
    }
    const missingSubsets = REWARDBENCH_SECTIONS.flatMap((sec) => s.sections[sec]?.missingSubsets ?? []);
    if (missingSubsets.length > 0) parts.push(`${missingSubsets.length} subset(s) of the sections present are missing (${someOf(missingSubsets)})`);
    const short = shortRewardBenchSubsets(scores);
    if (short.length > 0) parts.push(`${short.length} subset(s) have fewer examples than RewardBench (${describeShortSubsets(short)})`);
  } else {
    const missing = RMBENCH_DOMAINS.filter((d) => s.domains[d] === null);
    if (missing.length > 0) parts.push(`RM-Bench covers ${RMBENCH_DOMAINS.length - missing.length} of ${RMBENCH_DOMAINS.length} domains (missing ${missing.join(', ')})`);
  }
  if (coverage !== undefined && coverage.evaluatedExamples < coverage.examples) {
    parts.push(`only ${coverage.evaluatedExamples} of the ${coverage.examples} examples loaded were evaluated (--limit)`);
  }
  if (scores.unjudgedExamples > 0) parts.push(`${scores.unjudgedExamples} example(s) have no judgments`);
  const left = s.kind === 'rewardbench' ? 'shows only whole sections and no RB Avg' : 'shows no RM-Bench figures';
  return [`${parts.join('; ')}: Table 1 ${left} (the paper's are means over the whole benchmark)`];
}

/** The first few names of a list, and how many more. */
function someOf(names: readonly string[], shown = 6): string {
  return names.length <= shown ? names.join(', ') : `${names.slice(0, shown).join(', ')} and ${names.length - shown} more`;
}

/**
 * Warnings about the judgments and what the scores cover, for the terminal and results.json;
 * `coverage`: how much of the loaded benchmark the run evaluated (--limit).
 */
export function judgmentWarnings(scores: EvaluationScores, coverage?: EvalCoverage): string[] {
  const d = scores.draws;
  const warnings: string[] = [];
  if (d.unknownKeyRecords > 0) {
    warnings.push(`${d.unknownKeyRecords} judgment(s) name items that are not in the data, e.g. ${d.unknownKeys.map((k) => `'${k}'`).join(', ')}; ignored`);
  }
  if (d.modeMismatches > 0) warnings.push(`${d.modeMismatches} judgment(s) are ${scores.mode === 'pointwise' ? 'pairwise' : 'pointwise'} while the run is ${scores.mode}; ignored`);
  if (d.duplicates > 0) warnings.push(`${d.duplicates} judgment(s) repeat a (key, draw) seen earlier; the later one was used`);
  if (d.extraDraws > 0) warnings.push(`${d.extraDraws} judgment(s) have draw >= k=${scores.k}; not used`);
  if (d.missingDraws > 0) warnings.push(`${d.missingDraws} draw(s) below k=${scores.k} are missing; counted as unparseable`);
  if (scores.unjudgedItems > 0) {
    warnings.push(
      `${scores.unjudgedItems} item(s) of scored examples have no judgment, e.g. ${scores.unjudgedItemKeys.map((k) => `'${k}'`).join(', ')}; their comparisons count as unparseable`,
    );
  }
  if (scores.unjudgedExamples > 0) {
    warnings.push(
      `${scores.unjudgedExamples} example(s) have no judgment for any item and are not scored, e.g. ${scores.unjudgedExampleIds.map((id) => `'${id}'`).join(', ')}`,
    );
  }
  warnings.push(...table1Warnings(scores, coverage));
  return warnings;
}

export function formatTerminalReport(results: EvalResults): string {
  const { config, scores } = results;
  const lines = [
    `PaTaRM evaluation: ${config.label} on ${config.data} (${config.format}, ${config.mode}, k=${config.k}${config.k > 1 ? `, ${config.voting} voting` : ''})`,
    `scores in %, ${variantName(scores.primary)}`,
    '',
    formatTextTable(
      ['Model', ...TABLE1_COLUMNS],
      // Plain pairs have no Table 1 columns: the paper's rows stay as the reference, ours is below.
      [...results.table1.paper, ...(config.format === 'pairs' ? [] : [results.table1.ours])].map((row) => [row.model, ...table1Cells(row)]),
      { separatorAfter: [5] },
    ),
    ...rewardBenchDetails(scores),
    ...rmBenchDetails(scores),
    ...pairsDetails(scores),
    ...votingLines(scores),
    ...countLines(results),
  ];
  if (results.warnings.length > 0) lines.push('', 'warnings:', ...results.warnings.map((w) => `  - ${w}`));
  return `${lines.join('\n')}\n`;
}
