#!/usr/bin/env node
import '../dist/src/cli/judge-errors.js';
