/**
 * Arithmetic: one- and two-digit addition and subtraction (never negative), one-digit
 * multiplication. The answer is the exact decimal result; near misses are the usual slips:
 * off by one, off by two, off by ten, and two digits swapped.
 */
import { defineKind, type SynthKind } from './kind.js';

interface Operands {
  a: number;
  b: number;
}

function nearMissNumbers(result: number): string[] {
  const candidates = [result + 1, result - 1, result + 2, result - 2, result + 10, result - 10];
  const digits = String(result);
  if (digits.length >= 2) {
    // Swap the last two digits (85 -> 58, 123 -> 132); a leading zero would look unnatural.
    const swapped = digits.slice(0, -2) + digits.at(-1) + digits.at(-2);
    if (!swapped.startsWith('0')) candidates.push(Number(swapped));
  }
  return candidates.filter((n) => n >= 0 && n !== result).map(String);
}

function binaryKind(
  name: string,
  symbol: string,
  operands: () => Operands[],
  apply: (a: number, b: number) => number,
): SynthKind {
  const escaped = symbol.replace(/[*+]/g, '\\$&');
  const pattern = new RegExp(`^What is (\\d{1,2}) ${escaped} (\\d{1,2})\\?$`);
  return defineKind<Operands>({
    name,
    task: 'math',
    enumerate: operands,
    render: ({ a, b }) => `What is ${a} ${symbol} ${b}?`,
    parse(prompt) {
      const m = pattern.exec(prompt);
      return m ? { a: Number(m[1]), b: Number(m[2]) } : null;
    },
    expected: ({ a, b }) => String(apply(a, b)),
    nearMisses: ({ a, b }) => nearMissNumbers(apply(a, b)),
  });
}

function grid(from: number, to: number, keep: (a: number, b: number) => boolean = () => true): Operands[] {
  const out: Operands[] = [];
  for (let a = from; a <= to; a++) for (let b = from; b <= to; b++) if (keep(a, b)) out.push({ a, b });
  return out;
}

export const MATH_KINDS: readonly SynthKind[] = [
  binaryKind('add', '+', () => grid(1, 99), (a, b) => a + b),
  binaryKind('subtract', '-', () => grid(1, 99, (a, b) => a >= b), (a, b) => a - b),
  binaryKind('multiply', '*', () => grid(2, 9), (a, b) => a * b),
];
