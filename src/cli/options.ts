// Numeric command-line options shared by the small CLIs (node:util parseArgs gives strings).

/** `value` as a number, `fallback` when absent; a clear error naming the option when `check` fails. */
export function numberOption(name: string, value: string | undefined, fallback: number, check: (v: number) => boolean, expected: string): number {
  if (value === undefined) return fallback;
  const v = Number(value);
  if (value.trim() === '' || !Number.isFinite(v) || !check(v)) throw new Error(`--${name} ${value}: expected ${expected}`);
  return v;
}

/** An integer option of at least `min`. */
export function integerOption(name: string, value: string | undefined, fallback: number, min: number): number {
  return numberOption(name, value, fallback, (v) => Number.isInteger(v) && v >= min, `an integer >= ${min}`);
}
