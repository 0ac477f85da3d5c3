#!/usr/bin/env node
// `node train.js` runs the default job; `node train.js --config FILE` trains from a config.
// See src/cli/train.ts.
import './dist/src/cli/train.js';
