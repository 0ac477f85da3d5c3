// Runs the compiled grpo benchmark: npx tsc -p tsconfig.json && node bench/grpo.js [--quick]
import '../dist/bench/src/grpo.js';
