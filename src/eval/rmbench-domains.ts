/**
 * RM-Bench's domains and response styles. The file's domains are chat, math, code, safety-refuse
 * and safety-response; like the official scripts (which split by `domain.startswith(...)`), both
 * safety domains form the one Safety column.
 */

export const RMBENCH_DOMAINS = ['chat', 'math', 'code', 'safety'] as const;
export type RmBenchDomain = (typeof RMBENCH_DOMAINS)[number];

/** Index i of `chosen[i]` / `rejected[i]`. Matrix cell M[i][j] compares chosen style i with rejected style j. */
export const RMBENCH_STYLES = ['concise', 'detailed plain', 'detailed markdown'] as const;

export function rmBenchDomain(domain: string): RmBenchDomain | null {
  const value = domain.trim().toLowerCase();
  return RMBENCH_DOMAINS.find((d) => value === d || value.startsWith(`${d}-`)) ?? null;
}
