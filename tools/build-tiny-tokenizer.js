#!/usr/bin/env node
// Rebuilds models/tiny-tokenizer; see src/synth/build-tokenizer.ts.
import '../dist/src/synth/build-tokenizer.js';
