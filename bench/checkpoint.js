// Runs the compiled checkpoint benchmark: npm run build && node bench/checkpoint.js [--quick]
import '../dist/bench/src/checkpoint.js';
