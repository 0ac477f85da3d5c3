// Locates `kernels/*.wgsl` from either the TypeScript sources (tests) or the
// compiled `dist/` tree (entry points), by walking up to the package root.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let kernelDir: string | null = null;

export function kernelsDirectory(): string {
  if (kernelDir) return kernelDir;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'kernels'))) {
      kernelDir = join(dir, 'kernels');
      return kernelDir;
    }
    dir = dirname(dir);
  }
  throw new Error('cannot find the kernels/ folder above ' + fileURLToPath(import.meta.url));
}

const sources = new Map<string, string>();

export function readKernelSource(file: string): string {
  let src = sources.get(file);
  if (src === undefined) {
    const path = join(kernelsDirectory(), file.endsWith('.wgsl') ? file : `${file}.wgsl`);
    if (!existsSync(path)) throw new Error(`kernel file not found: ${path}`);
    src = readFileSync(path, 'utf8');
    sources.set(file, src);
  }
  return src;
}
