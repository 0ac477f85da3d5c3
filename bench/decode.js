// Runs the compiled decode benchmark: npm run build && node bench/decode.js [--quick]
import '../dist/bench/src/decode.js';
