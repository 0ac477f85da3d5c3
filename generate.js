#!/usr/bin/env node
// Text generation with a Qwen3 model folder (see src/cli/generate.ts).
import './dist/src/cli/generate.js';
