/**
 * results.html: one self-contained page (inline CSS and SVG, no scripts, no network) with Table 1
 * (the paper's rows and ours), bar charts per section, the RM-Bench style matrices, the voting@k
 * curve, the counts and the warnings. Written atomically.
 */
import { writeTextFileAtomicSync as writeFileAtomic } from '../io/atomic.js';
import { PAPER_ROWS } from './paper.js';
import { TABLE1_COLUMNS, table1Cells } from './report.js';
import type { EvalResults } from './results.js';
import { REWARDBENCH_SECTIONS } from './rewardbench-sections.js';
import { RMBENCH_DOMAINS, RMBENCH_STYLES } from './rmbench-domains.js';
import type { EvaluationScores } from './score.js';
import type { MatrixScore } from './score-rmbench.js';
import { escapeXml, groupedBarChart, heatMap, lineChart } from './svg.js';
import type { Metric } from './voting.js';

const STYLE = `body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
td:first-child,th:first-child{text-align:left}tr.ours{background:#eef4fb;font-weight:bold}
.charts{display:flex;flex-wrap:wrap;gap:16px}.note{color:#666;font-size:90%}`;

const pctOf = (m: Metric | null | undefined, v: keyof Metric): number | null => (m ? m[v] * 100 : null);
const paperRow = (model: string) => PAPER_ROWS.find((r) => r.model === model);

function htmlTable(header: readonly string[], rows: readonly { cells: readonly string[]; className?: string }[]): string {
  const head = `<tr>${header.map((h) => `<th>${escapeXml(h)}</th>`).join('')}</tr>`;
  const body = rows.map((r) => `<tr${r.className ? ` class="${r.className}"` : ''}>${r.cells.map((c) => `<td>${escapeXml(c)}</td>`).join('')}</tr>`).join('');
  return `<table>${head}${body}</table>`;
}

function rewardBenchCharts(scores: EvaluationScores, table1: EvalResults['table1']): string[] {
  const s = scores.score;
  if (s.kind !== 'rewardbench') return [];
  const v = scores.primary;
  const paper8b = paperRow('PaTaRM-8B')!.rewardBench;
  const ours = table1.ours.rewardBench;
  const charts = [
    groupedBarChart({
      title: 'RewardBench sections (%)',
      categories: [...REWARDBENCH_SECTIONS, 'Avg'],
      series: [
        // Table 1's cells (ourTable1Row): no bar beside the paper's from only part of a section or of the benchmark.
        { name: 'ours', values: [ours.chat ?? null, ours.chatHard ?? null, ours.safety ?? null, ours.reasoning ?? null, ours.avg ?? null] },
        { name: 'PaTaRM-8B (paper)', values: [paper8b.chat ?? null, paper8b.chatHard ?? null, paper8b.safety ?? null, paper8b.reasoning ?? null, paper8b.avg ?? null] },
      ],
    }),
  ];
  for (const section of REWARDBENCH_SECTIONS) {
    const score = s.sections[section];
    if (score === null) continue;
    const subsets = s.subsets.filter((sub) => score.subsets.includes(sub.subset));
    charts.push(
      groupedBarChart({
        title: `${section}: subsets (%)`,
        categories: subsets.map((sub) => sub.subset),
        series: [
          { name: 'ties wrong', values: subsets.map((sub) => sub.tiesWrong * 100) },
          { name: 'ties 1/2', values: subsets.map((sub) => sub.tiesHalf * 100) },
        ],
      }),
    );
  }
  if (s.other.length > 0) {
    charts.push(
      groupedBarChart({
        title: 'Subsets outside RewardBench ("other", not in the sections)',
        categories: s.other.map((sub) => sub.subset),
        series: [{ name: 'ours', values: s.other.map((sub) => pctOf(sub, v)) }],
      }),
    );
  }
  return charts;
}

function matrixChart(title: string, m: MatrixScore, v: keyof Metric): string {
  return heatMap({
    title,
    rows: RMBENCH_STYLES.map((s) => `chosen ${s}`),
    columns: RMBENCH_STYLES.map((s) => `rej. ${s}`),
    values: m.matrix.map((row) => row.map((cell) => pctOf(cell, v))),
  });
}

function rmBenchCharts(scores: EvaluationScores, table1: EvalResults['table1']): string[] {
  const s = scores.score;
  if (s.kind !== 'rmbench') return [];
  const v = scores.primary;
  const paper8b = paperRow('PaTaRM-8B')!.rmBench;
  const ours = table1.ours.rmBench;
  const o = s.overall;
  const charts = [
    groupedBarChart({
      title: 'RM-Bench difficulty (%)',
      categories: ['Easy', 'Normal', 'Hard', 'Avg'],
      series: [
        // Table 1's cells (ourTable1Row): no bars beside the paper's from only part of the benchmark.
        { name: 'ours', values: [ours.easy ?? null, ours.normal ?? null, ours.hard ?? null, ours.avg ?? null] },
        { name: 'PaTaRM-8B (paper)', values: [paper8b.easy ?? null, paper8b.normal ?? null, paper8b.hard ?? null, paper8b.avg ?? null] },
      ],
    }),
    groupedBarChart({
      title: 'RM-Bench domains (%)',
      categories: [...RMBENCH_DOMAINS],
      series: (['easy', 'normal', 'hard', 'overall'] as const).map((part) => ({
        name: part[0]!.toUpperCase() + part.slice(1),
        values: RMBENCH_DOMAINS.map((d) => pctOf(s.domains[d]?.[part], v)),
      })),
    }),
  ];
  if (o) charts.push(matrixChart('Style matrix, mean of domains (%)', o, v));
  for (const d of RMBENCH_DOMAINS) {
    const m = s.domains[d];
    if (m) charts.push(matrixChart(`Style matrix: ${d} (%)`, m, v));
  }
  return charts;
}

function pairsCharts(scores: EvaluationScores): string[] {
  const s = scores.score;
  if (s.kind !== 'pairs') return [];
  const groups = Object.entries(s.groups);
  return [
    groupedBarChart({
      title: 'Accuracy by task (%)',
      categories: [...groups.map(([g]) => g), 'all'],
      series: [
        { name: 'ties wrong', values: [...groups.map(([, a]) => a.tiesWrong * 100), pctOf(s.overall, 'tiesWrong')] },
        { name: 'ties 1/2', values: [...groups.map(([, a]) => a.tiesHalf * 100), pctOf(s.overall, 'tiesHalf')] },
      ],
    }),
  ];
}

function votingChart(scores: EvaluationScores): string[] {
  const v = scores.primary;
  return [
    lineChart({
      title: `voting@k: headline score (%), ${v === 'tiesWrong' ? 'ties wrong' : 'ties 1/2'}`,
      xLabel: 'k (judgments per item)',
      x: scores.votingAtK.map((point) => point.k),
      series: [
        { name: 'average voting', values: scores.votingAtK.map((point) => pctOf(point.average, v)) },
        { name: 'majority voting', values: scores.votingAtK.map((point) => pctOf(point.majority, v)) },
      ],
    }),
  ];
}

export function renderResultsHtml(results: EvalResults): string {
  const { config, scores } = results;
  const table1 = htmlTable(
    ['Model', ...TABLE1_COLUMNS, 'source'],
    [
      ...results.table1.paper.map((row) => ({ cells: [row.model, ...table1Cells(row), row.note] })),
      // Plain pairs have no Table 1 columns (as in the terminal report): their scores are below.
      ...(config.format === 'pairs' ? [] : [{ cells: [results.table1.ours.model, ...table1Cells(results.table1.ours), results.table1.ours.note], className: 'ours' }]),
    ],
  );
  const settings = htmlTable(
    ['setting', 'value'],
    Object.entries(config).map(([key, value]) => ({ cells: [key, value === null ? '-' : typeof value === 'object' ? JSON.stringify(value) : String(value)] })),
  );
  const d = scores.draws;
  const counts = htmlTable(
    ['count', 'value'],
    [
      ['examples loaded', results.data.examples],
      ['examples scored', scores.judgedExamples],
      ['examples without judgments', scores.unjudgedExamples],
      ['items without judgments in scored examples', scores.unjudgedItems],
      ['rows skipped', results.data.skippedRows.length],
      ['judging items', results.items],
      ['judgments read', d.judgments],
      ['unparseable judgments', d.formatErrors],
      ...Object.entries(d.formatErrorsByCode).map(([code, n]) => [`  format error: ${code}`, n] as const),
      ['missing draws', d.missingDraws],
      ['comparisons', scores.counts.comparisons],
      ['ties', scores.counts.ties],
      ['unparseable comparisons', scores.counts.unparseable],
    ].map(([name, value]) => ({ cells: [String(name), String(value)] })),
  );
  const charts = [...rewardBenchCharts(scores, results.table1), ...rmBenchCharts(scores, results.table1), ...pairsCharts(scores), ...votingChart(scores)];
  const warnings = results.warnings.length > 0 ? `<h2>Warnings</h2><ul>${results.warnings.map((w) => `<li>${escapeXml(w)}</li>`).join('')}</ul>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>PaTaRM evaluation: ${escapeXml(config.label)}</title><style>${STYLE}</style></head>
<body>
<h1>PaTaRM evaluation: ${escapeXml(config.label)}</h1>
<p class="note">${escapeXml(`${config.format}, ${config.mode}, k=${config.k} (${config.voting} voting), data ${config.data}; created ${results.createdAt}`)}</p>
<h2>Table 1 layout (%)</h2>
<p class="note">${escapeXml(scores.primary === 'tiesWrong' ? 'Ours: ties and unparseable judgments count as wrong; results.json also has the variant counting them 1/2.' : 'Ours: ties and unparseable judgments count 1/2; results.json also has the variant counting them wrong.')}</p>
${table1}
<h2>Charts</h2>
<div class="charts">${charts.map((c) => `<figure>${c}</figure>`).join('\n')}</div>
<h2>Counts</h2>
${counts}
${warnings}
<h2>Settings</h2>
${settings}
</body></html>
`;
}

export function writeResultsHtml(path: string, results: EvalResults): void {
  writeFileAtomic(path, renderResultsHtml(results));
}
