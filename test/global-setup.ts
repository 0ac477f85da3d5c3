// Builds dist/ once before the suite, so tests that run the command-line
// entry points (node train.js, generate.js, ...) see the current sources.
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
}
