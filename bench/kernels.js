// Runs the compiled kernels benchmark: npm run build && node bench/kernels.js [--quick]
import '../dist/bench/src/kernels.js';
