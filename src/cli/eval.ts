// node eval.js --model DIR --data FILE --format rewardbench|rmbench|pairs --mode pointwise|pairwise ...
// (see src/eval/cli.ts for every option); --judgments FILE scores judgments made elsewhere, without a GPU.
import { Runtime } from '../gpu/runtime.js';
import { runEvalCli } from '../eval/cli.js';
import { loadJudge } from '../eval/gpu-judge.js';

const code = await runEvalCli(process.argv.slice(2), async (modelDir, decoding, generation) =>
  loadJudge(await Runtime.create(), modelDir, decoding, generation));
process.exit(code);
