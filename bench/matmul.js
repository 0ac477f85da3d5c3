// Runs the compiled matmul benchmark: npx tsc -p tsconfig.json && node bench/matmul.js [--quick]
import '../dist/bench/src/matmul.js';
