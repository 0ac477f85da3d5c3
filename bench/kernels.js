// Runs the compiled kernels benchmark: npx tsc -p tsconfig.json && node bench/kernels.js [--quick]
import '../dist/bench/src/kernels.js';
