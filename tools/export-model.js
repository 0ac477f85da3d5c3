#!/usr/bin/env node
import '../dist/src/cli/export-model.js';
