/**
 * Extraction of the judge's generated, instance-specific criteria ("generated rubrics").
 *
 * Accepted layout (in the visible text, i.e. outside think blocks and before `<answer>`):
 * a heading line that mentions "criteria" or "rubric" (any case) and looks like a heading: a
 * markdown heading (`## Generated Rubrics`), a bold line (`**Criteria**`), or a line ending in `:`
 * (`Additional criteria:`); at most 80 characters. A sentence that merely mentions a rubric is not a
 * heading, so its following bullets are not taken for criteria. The heading is followed by list
 * items, one per line, marked `-`, `*`, `+`, `•`, `1.` or `1)`. Blank lines between items are allowed;
 * an indented non-item line continues the previous item. The list ends at the first other line.
 * The first heading that is followed by at least one item wins. A heading with no items gives [];
 * no heading gives undefined.
 */

const LIST_ITEM = /^\s*(?:[-*+•]|\d{1,3}[.)])\s+(\S(?:.*\S)?)\s*$/;
const MAX_HEADING_LENGTH = 80;

function isCriteriaHeading(line: string): boolean {
  if (line.length > 2 * MAX_HEADING_LENGTH || LIST_ITEM.test(line)) return false;
  const markdownHeading = /^\s*#{1,6}\s/.test(line);
  const boldLine = /^\s*(\*\*|__).*\1\s*:?\s*$/.test(line);
  const colonEnded = /:\s*(\*\*|__)?\s*$/.test(line);
  if (!markdownHeading && !boldLine && !colonEnded) return false;
  const bare = line.replace(/^\s*#{1,6}\s*/, '').replace(/[*_]{2}/g, '').replace(/:\s*$/, '').trim();
  return bare.length > 0 && bare.length <= MAX_HEADING_LENGTH && /criteri|rubric/i.test(bare);
}

function itemsAfter(lines: readonly string[], start: number): string[] {
  const items: string[] = [];
  for (let i = start; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const item = LIST_ITEM.exec(line);
    if (item) {
      items.push(item[1]!);
    } else if (items.length > 0 && /^\s{2,}\S/.test(line)) {
      items[items.length - 1] += ` ${line.trim()}`;
    } else {
      break;
    }
  }
  return items;
}

export function extractCriteria(visibleText: string): string[] | undefined {
  const lines = visibleText.split(/\r?\n/);
  let sawHeading = false;
  for (let i = 0; i < lines.length; i++) {
    if (!isCriteriaHeading(lines[i]!)) continue;
    sawHeading = true;
    const items = itemsAfter(lines, i + 1);
    if (items.length > 0) return items;
  }
  return sawHeading ? [] : undefined;
}
