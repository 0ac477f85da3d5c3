// Numbers typed on a command line. Number() alone takes '0x10', '0b11', '1e400' (Infinity), ' 7 '
// and '' (0); a value the user did not mean should be refused, naming the option, instead.

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
