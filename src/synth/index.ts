// The synthetic preference family of the default job, its rule-based teacher, short rubrics and
// tiny tokenizer. (tiny-tokenizer.ts loads the native `tokenizers` addon only when it builds.)
// build-tokenizer.ts is the CLI behind tools/build-tiny-tokenizer.js and is not exported.
export * from './kind.js';
export * from './tasks.js';
export * from './teacher.js';
export * from './rubrics.js';
export * from './tokenizer-corpus.js';
export * from './token-lengths.js';
export * from './tiny-tokenizer.js';
