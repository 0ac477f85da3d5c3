/**
 * The five PaTaRM task types and the mapping from dataset labels (RewardBench subsets, RM-Bench
 * domains, free-form task/ability fields) to them.
 *
 * Mapping table (value lower-cased and trimmed; first matching rule wins, rules in this order):
 *
 * | rule                                  | examples                                   | task                  |
 * |---------------------------------------|--------------------------------------------|-----------------------|
 * | exact task name                       | chat, math, code, safety, instruction_following | itself           |
 * | exact alias                           | instruction-following, if                  | instruction_following |
 * | contains `ifeval` or `instruction`    | ifeval, instruction_following_hard         | instruction_following |
 * | starts with `alpacaeval`              | alpacaeval-easy/-length/-hard              | chat                  |
 * | starts with `mt-bench`                | mt-bench-easy/-med/-hard                   | chat                  |
 * | starts with `llmbar`                  | llmbar-natural, llmbar-adver-*             | chat                  |
 * | starts with `refusals`                | refusals-dangerous, refusals-offensive     | safety                |
 * | starts with `xstest`                  | xstest-should-refuse/-respond              | safety                |
 * | starts with `donotanswer`             | donotanswer                                | safety                |
 * | starts with `safety`                  | RM-Bench safety-refuse, safety-response    | safety                |
 * | starts with `math`                    | math-prm, RM-Bench math                    | math                  |
 * | starts with `hep-` or `code`          | hep-cpp ... hep-rust, RM-Bench code        | code                  |
 *
 * Fields are examined in the order task, subset, domain, ability; a field whose value matches no
 * rule is passed over. When nothing matches the task is `chat` and the result says it is a
 * fallback, so callers can warn instead of silently mislabelling.
 */

export const TASK_TYPES = ['chat', 'math', 'code', 'safety', 'instruction_following'] as const;
export type TaskType = (typeof TASK_TYPES)[number];

export function isTaskType(value: unknown): value is TaskType {
  return typeof value === 'string' && (TASK_TYPES as readonly string[]).includes(value);
}

/** Fields that may carry a task label, in the order they are consulted. */
export const TASK_LABEL_FIELDS = ['task', 'subset', 'domain', 'ability'] as const;
export type TaskLabelField = (typeof TASK_LABEL_FIELDS)[number];

export type TaskLabels = Partial<Record<TaskLabelField, unknown>>;

export interface TaskDetection {
  task: TaskType;
  /** true when no field matched and `chat` was assumed. */
  fallback: boolean;
  /** The field and value that decided the task (absent on fallback). */
  matchedField?: TaskLabelField;
  matchedValue?: string;
  /** Human-readable account of the decision, suitable for a log line. */
  explanation: string;
}

interface TaskRule {
  test: (value: string) => boolean;
  task: TaskType;
}

const startsWith = (prefix: string) => (value: string) => value.startsWith(prefix);

// Exact task names are handled before these rules (the task is the value itself).
const TASK_RULES: readonly TaskRule[] = [
  { test: (v) => v === 'instruction-following' || v === 'if', task: 'instruction_following' },
  { test: (v) => v.includes('ifeval') || v.includes('instruction'), task: 'instruction_following' },
  { test: startsWith('alpacaeval'), task: 'chat' },
  { test: startsWith('mt-bench'), task: 'chat' },
  { test: startsWith('llmbar'), task: 'chat' },
  { test: startsWith('refusals'), task: 'safety' },
  { test: startsWith('xstest'), task: 'safety' },
  { test: startsWith('donotanswer'), task: 'safety' },
  { test: startsWith('safety'), task: 'safety' },
  { test: startsWith('math'), task: 'math' },
  { test: (v) => v.startsWith('hep-') || v.startsWith('code'), task: 'code' },
];

/** Maps one label value to a task, or null when no rule matches. */
export function taskFromLabel(label: string): TaskType | null {
  const value = label.trim().toLowerCase();
  if (isTaskType(value)) return value;
  for (const rule of TASK_RULES) if (rule.test(value)) return rule.task;
  return null;
}

export function detectTask(labels: TaskLabels): TaskDetection {
  const examined: string[] = [];
  for (const field of TASK_LABEL_FIELDS) {
    const value = labels[field];
    if (typeof value !== 'string' || value.trim() === '') continue;
    const task = taskFromLabel(value);
    if (task !== null) {
      return {
        task,
        fallback: false,
        matchedField: field,
        matchedValue: value,
        explanation: `task '${task}' from ${field}='${value}'`,
      };
    }
    examined.push(`${field}='${value}'`);
  }
  const seen = examined.length > 0 ? `no rule matched ${examined.join(', ')}` : 'no task/subset/domain/ability field';
  return { task: 'chat', fallback: true, explanation: `task 'chat' assumed (fallback): ${seen}` };
}
