#!/usr/bin/env node
// Reward-model evaluation (RewardBench, RM-Bench, pairs); see src/cli/eval.ts.
import './dist/src/cli/eval.js';
