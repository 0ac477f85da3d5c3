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
 * An integer option of at least `min`, written in decimal digits. Number() alone would also take
 * `0x10`, `1e3` or ` 7 `, and round `1e20` or a long digit string (a seed that is not the one asked for).
 */
export function integerOption(name: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const expected = `expected an integer >= ${min}`;
  const v = decimalInteger(value);
  if (v === null) {
    const digits = DECIMAL_INTEGER_TEXT.test(value); // then only too large to hold exactly
    throw new Error(`--${name} ${value}: ${expected}${digits ? ` and at most ${Number.MAX_SAFE_INTEGER}` : ', written in decimal digits'}`);
  }
  if (v < min) throw new Error(`--${name} ${value}: ${expected}`);
  return v;
}
