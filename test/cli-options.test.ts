// The CLIs' numeric options: absent gives the default, anything else is checked and named.
import { describe, expect, it } from 'vitest';
import { integerOption, numberOption } from '../src/cli/options.js';

describe('CLI numeric options', () => {
  it('gives the fallback when absent and the number when valid', () => {
    expect(integerOption('n', undefined, 7, 1)).toBe(7);
    expect(integerOption('n', '12', 7, 1)).toBe(12);
    expect(numberOption('top-p', '0.5', 0.95, (v) => v > 0 && v <= 1, 'a number in (0, 1]')).toBe(0.5);
  });

  it('names the option, the value and what was expected', () => {
    expect(() => integerOption('n', '0', 1, 1)).toThrow('--n 0: expected an integer >= 1');
    expect(() => integerOption('seed', '1.5', 0, 0)).toThrow('--seed 1.5: expected an integer >= 0');
    expect(() => integerOption('n', '', 1, 1)).toThrow("--n : expected an integer >= 1"); // Number('') would be 0
    expect(() => numberOption('top-p', 'abc', 0.95, (v) => v > 0 && v <= 1, 'a number in (0, 1]')).toThrow('--top-p abc: expected a number in (0, 1]');
    expect(() => integerOption('seed', '4294967296', 0, 0, 0xffffffff)).toThrow('--seed 4294967296: expected an integer in 0..4294967295');
    expect(integerOption('seed', '4294967295', 0, 0, 0xffffffff)).toBe(0xffffffff);
    expect(() => numberOption('temperature', 'Infinity', 0.6, (v) => v >= 0, 'a number >= 0')).toThrow('expected a number >= 0');
  });
});
