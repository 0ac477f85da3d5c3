#!/usr/bin/env node
import '../dist/src/cli/verdict-credit.js';
