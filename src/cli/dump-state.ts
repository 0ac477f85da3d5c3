// node tools/dump-state.js --model DIR --case FILE --out FILE
// Writes the engine's debug state (logits, log-probs, losses, every gradient,
// AdamW losses) under the names of the PyTorch fixture, for comparison.
import { parseArgs } from 'node:util';
import { Runtime } from '../gpu/runtime.js';
import { writeSafetensors } from '../io/safetensors.js';
import { computeDebugState, readDebugCase } from '../train/debug-state.js';
import { requiredOptions } from './options.js';

const USAGE = 'usage: node tools/dump-state.js --model DIR --case FILE --out FILE';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { model: { type: 'string' }, case: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean' } } });
  const { model, case: caseFile, out } = requiredOptions(values, ['model', 'case', 'out'], USAGE);
  const rt = await Runtime.create();
  const c = await readDebugCase(caseFile);
  const state = await computeDebugState(rt, model, c);
  await writeSafetensors(out, [...state].map(([name, t]) => ({ name, dtype: 'F32' as const, shape: t.shape, data: t.data })), { format: 'pt', producer: 'patarm-webgpu dump-state' });
  process.stdout.write(`wrote ${state.size} tensors to ${out}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`dump-state: ${(err as Error).message}\n`);
  process.exit(1);
});
