// Numeric command-line options shared by the small CLIs (node:util parseArgs gives strings).

import { DECIMAL_INTEGER_TEXT, decimalInteger, decimalNumber } from '../train/number-text.js';

/** `value` as a number, `fallback` when absent; a clear error naming the option when `check` fails. */
export function numberOption(name: string, value: string | undefined, fallback: number, check: (v: number) => boolean, expected: string): number {
  if (value === undefined) return fallback;
  const v = decimalNumber(value);
  if (v === null) throw new Error(`--${name} ${value}: expected ${expected}, written as a decimal number`);
  if (!check(v)) throw new Error(`--${name} ${value}: expected ${expected}`);
  return v;
}

/**
 * An integer option in min..max, written in decimal digits. Number() alone would also take
 * `0x10`, `1e3` or ` 7 `, and round `1e20` or a long digit string (a seed that is not the one asked for).
 */
export function integerOption(name: string, value: string | undefined, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  const expected = max === Number.MAX_SAFE_INTEGER ? `expected an integer >= ${min}` : `expected an integer in ${min}..${max}`;
  const v = decimalInteger(value);
  if (v === null) {
    const digits = DECIMAL_INTEGER_TEXT.test(value); // then only too large to hold exactly
    throw new Error(`--${name} ${value}: ${expected}${digits ? ` and at most ${Number.MAX_SAFE_INTEGER}` : ', written in decimal digits'}`);
  }
  if (v < min || v > max) throw new Error(`--${name} ${value}: ${expected}`);
  return v;
}

/**
 * The required string options, once a CLI is known to have them. Stops it before any work when
 * it was asked for help (usage on stdout, exit 0) or one is missing (which ones, then the usage,
 * on stderr, exit 2).
 */
export function requiredOptions<K extends string>(values: { help?: boolean } & Partial<Record<K, string>>, required: readonly K[], usage: string): Record<K, string> {
  if (values.help) {
    process.stdout.write(usage + '\n');
    process.exit(0);
  }
  const missing = required.filter((name) => !values[name]);
  if (missing.length > 0) {
    process.stderr.write(`missing ${missing.map((name) => `--${name}`).join(', ')}\n${usage}\n`);
    process.exit(2);
  }
  return Object.fromEntries(required.map((name) => [name, values[name]!])) as Record<K, string>;
}
