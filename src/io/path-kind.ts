// What a path names on disk, for checks that must say which of the three they found.
import { statSync } from 'node:fs';

export type PathKind = 'file' | 'dir' | 'missing';

/** 'dir', 'file', or 'missing' when it cannot be stat'ed (absent, or a file stands in its way). */
export function pathKind(path: string): PathKind {
  try {
    return statSync(path).isDirectory() ? 'dir' : 'file';
  } catch {
    return 'missing';
  }
}
