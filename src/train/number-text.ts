// Numbers as text: read from a command line (Number() alone takes '0x10', '0b11', '1e400' (Infinity),
// ' 7 ' and '' (0); a value the user did not mean is refused, naming the option) and written in tables.

/** A plain decimal number, optionally with an exponent: '3', '-2.5', '.5', '3e-4'. */
export const DECIMAL_NUMBER_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** `text` as a finite number when it is written as a plain decimal number, else null. */
export function decimalNumber(text: string): number | null {
  if (!DECIMAL_NUMBER_TEXT.test(text)) return null;
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}

/** An integer in decimal digits, optionally signed: '7', '-3'. */
export const DECIMAL_INTEGER_TEXT = /^[+-]?\d+$/;

/** `text` as an integer when written in decimal digits and exactly representable (|n| <= 2^53 - 1), else null. */
export function decimalInteger(text: string): number | null {
  if (!DECIMAL_INTEGER_TEXT.test(text)) return null;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : null;
}

/**
 * `value` with `digits` decimals, halves rounded away from zero as written in decimal. toFixed
 * rounds the binary value, so a percentage computed as 20.5 / 40 * 100 (51.24999999999999) showed
 * as 51.2 while 34.5 / 40 * 100 (86.25) showed as 86.3. A result within 1e-9 (relative) of a half
 * counts as the half: no accuracy over fewer than a billion items lies that close to one otherwise.
 */
export function fixedHalfAway(value: number, digits: number): string {
  if (!Number.isFinite(value)) return String(value);
  const scale = 10 ** digits;
  const scaled = Math.abs(value) * scale;
  const rounded = Math.floor(scaled + 0.5 + 1e-9 * Math.max(1, scaled)) / scale;
  return (value < 0 && rounded !== 0 ? -rounded : rounded).toFixed(digits);
}

// node:util parseArgs takes nothing that starts with '-' as an option's value: `--temperature -1`
// ends in "argument is ambiguous ... use '--temperature=-XYZ'", never reaching the option's own
// range check. A negative number after an option that takes a value is that value: joined as
// `--temperature=-1`, it gets the message that names the option's range.

/** A negative decimal number as typed: '-1', '-0.5', '-.5', '-1e3'. */
const NEGATIVE_NUMBER = /^-\.?\d/;

/**
 * `argv` with each negative number that follows an option of type 'string' (given as `--name`,
 * not `--name=value`) joined to it as `--name=value`. Everything after `--` is left as it is.
 */
export function joinNegativeValues(argv: readonly string[], options: Readonly<Record<string, { type: 'string' | 'boolean' }>>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const next = argv[i + 1];
    const name = arg.startsWith('--') && !arg.includes('=') ? arg.slice(2) : null;
    if (name !== null && Object.hasOwn(options, name) && options[name]!.type === 'string' && next !== undefined && NEGATIVE_NUMBER.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}
