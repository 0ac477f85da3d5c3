// Runs the compiled model benchmark: npx tsc -p tsconfig.json && node bench/model.js [--quick]
import '../dist/bench/src/model.js';
