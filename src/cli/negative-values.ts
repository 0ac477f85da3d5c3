// node:util parseArgs takes nothing that starts with '-' as an option's value: `--temperature -1`
// ends in "argument is ambiguous ... use '--temperature=-XYZ'", never reaching the option's own
// range check. A negative number after an option that takes a value is that value: joined here as
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
