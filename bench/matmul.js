// Runs the compiled matmul benchmark: npm run build && node bench/matmul.js [--quick]
import '../dist/bench/src/matmul.js';
