#!/usr/bin/env node
import '../dist/src/cli/dump-state.js';
