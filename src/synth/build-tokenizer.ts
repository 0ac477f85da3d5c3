/**
 * `node tools/build-tiny-tokenizer.js [folder]`: rebuilds models/tiny-tokenizer (or the given
 * folder) from the synthetic family and prints the token lengths of typical rows. Running it on
 * an unchanged tree rewrites identical files.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadTokenizer } from '../tokenizer/tokenizer.js';
import { measureSynthLengths, type LengthStats } from './token-lengths.js';
import { tinyTokenizerDir, writeTinyTokenizer } from './tiny-tokenizer.js';

const show = (s: LengthStats) => `median ${s.median}, p90 ${s.p90}, max ${s.max} (mean ${s.mean.toFixed(1)}, n=${s.count})`;

const USAGE = 'usage: node tools/build-tiny-tokenizer.js [folder]   (default: models/tiny-tokenizer)';
// parseArgs is strict: an unknown flag (a mistyped --help, say) fails rather than becoming a folder.
function readArgs() {
  try {
    return parseArgs({ options: { help: { type: 'boolean' } }, allowPositionals: true });
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}
const { values, positionals } = readArgs();
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
if (positionals.length > 1) {
  console.error(`expected at most one folder, got ${positionals.length}\n${USAGE}`);
  process.exit(2);
}
const dir = positionals[0] ?? tinyTokenizerDir();
await writeTinyTokenizer(dir);
const tokenizer = await loadTokenizer(dir);
const lengths = await measureSynthLengths((text) => tokenizer.encode(text));
console.log(`wrote ${join(dir, 'tokenizer.json')} and tokenizer_config.json (${tokenizer.vocabSize} ids)`);
console.log(`rendered prompt tokens: ${show(lengths.prompt)}`);
console.log(`judgment tokens:        ${show(lengths.judgment)}`);
for (const [task, max] of Object.entries(lengths.maxByTask)) {
  console.log(`  ${task}: longest prompt ${max.prompt}, longest judgment ${max.judgment}`);
}
