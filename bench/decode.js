// Runs the compiled decode benchmark: npx tsc -p tsconfig.json && node bench/decode.js [--quick]
import '../dist/bench/src/decode.js';
