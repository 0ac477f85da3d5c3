// Runs the compiled model benchmark: npm run build && node bench/model.js [--quick]
import '../dist/bench/src/model.js';
