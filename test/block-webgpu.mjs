// `node --import ./test/block-webgpu.mjs ...` runs a program as on a machine where the native
// `webgpu` binding cannot load: importing it throws. Used to prove which commands need no GPU.
import { register } from 'node:module';

export async function resolve(specifier, context, next) {
  if (specifier === 'webgpu') throw new Error(`the webgpu binding is blocked for this test (imported by ${context.parentURL})`);
  return next(specifier, context);
}

if (!process.env.BLOCK_WEBGPU_HOOKED) {
  process.env.BLOCK_WEBGPU_HOOKED = '1';
  register(import.meta.url);
}
