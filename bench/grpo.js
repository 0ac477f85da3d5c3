// Runs the compiled grpo benchmark: npm run build && node bench/grpo.js [--quick]
import '../dist/bench/src/grpo.js';
