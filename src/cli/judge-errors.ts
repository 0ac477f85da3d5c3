// node tools/judge-errors.js --model DIR --pairs FILE [--rubrics FILE] [--json]
// Judges synthetic preference pairs greedily (as the default job's pointwise evaluation does) and
// says, for each lost pair, which step of which judgment went wrong first (src/demo/judge-errors.ts):
// reading the prompt, reading the response, comparing, concluding. Reads; writes nothing.
import { parseArgs } from 'node:util';
import { formatLostPairs, lostPairs } from '../demo/judge-errors.js';
import { judgePairSides } from './judge-pair-sides.js';
import { requiredOptions } from './options.js';

const USAGE = 'usage: node tools/judge-errors.js --model DIR --pairs FILE [--rubrics FILE] [--json]';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { model: { type: 'string' }, pairs: { type: 'string' }, rubrics: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' } },
  });
  const { model, pairs: pairsFile } = requiredOptions(values, ['model', 'pairs'], USAGE);
  const { pairs, judged } = await judgePairSides({ model, pairsFile, rubricsFile: values.rubrics, temperature: 0, k: 1, loadSeed: 0, drawSeed: 0 });
  const lost = lostPairs(pairs.map(({ id, prompt, chosen, rejected }, i) => ({
    id,
    prompt,
    chosen: { prompt, response: chosen, judgment: judged[i]!.chosen[0]! },
    rejected: { prompt, response: rejected, judgment: judged[i]!.rejected[0]! },
  })));
  if (values.json) process.stdout.write(JSON.stringify({ model, pairs: pairs.length, lost }, null, 2) + '\n');
  else process.stdout.write(`${model}\n${formatLostPairs(lost, pairs.length)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`judge-errors: ${(err as Error).message}\n`);
  process.exit(1);
});
