// node tools/verdict-credit.js --model DIR --pairs FILE [--rubrics FILE] [--n 320] [--rollouts 8] [--seed 0] [--json]
// Samples GRPO-style rollouts (temperature 1) from a judge on synthetic preference pairs, scores
// them with PAR and group advantages as GRPO would, and prints where that advantage lands on the
// judgment's verdict items (see src/demo/verdict-credit.ts). Reads; writes nothing.
import { parseArgs } from 'node:util';
import { formatVerdictCredit, verdictCredit, wrongWayShare } from '../demo/verdict-credit.js';
import { judgePairSides } from './judge-pair-sides.js';
import { integerOption, requiredOptions } from './options.js';

const USAGE = 'usage: node tools/verdict-credit.js --model DIR --pairs FILE [--rubrics FILE] [--n 320] [--rollouts 8] [--seed 0] [--json]';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' }, pairs: { type: 'string' }, rubrics: { type: 'string' }, n: { type: 'string' },
      rollouts: { type: 'string' }, seed: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' },
    },
  });
  const { model, pairs: pairsFile } = requiredOptions(values, ['model', 'pairs'], USAGE);
  const n = integerOption('n', values.n, 320, 1);
  const rollouts = integerOption('rollouts', values.rollouts, 8, 2);
  // The sampler's seed is a u32: a larger one would repeat a smaller one's rollouts.
  const seed = integerOption('seed', values.seed, 0, 0, 0xffffffff);
  const { pairs: used, judged } = await judgePairSides({ model, pairsFile, rubricsFile: values.rubrics, n, temperature: 1, k: rollouts, loadSeed: seed, drawSeed: 1 });
  const credit = verdictCredit(judged);
  if (values.json) {
    const shares = { mismatch: wrongWayShare(credit, 'mismatch'), match: wrongWayShare(credit, 'match') };
    process.stdout.write(JSON.stringify({ model, pairs: used.length, rollouts, credit, wrongWayShare: shares }, null, 2) + '\n');
  } else {
    process.stdout.write(`${used.length} pairs x ${rollouts} rollouts per response, ${model}\n${formatVerdictCredit(credit)}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`verdict-credit: ${(err as Error).message}\n`);
  process.exit(1);
});
