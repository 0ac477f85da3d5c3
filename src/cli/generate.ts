// node generate.js --model DIR --prompt TEXT [--chat [--thinking]] [--max-new-tokens N]
//                  [--temperature T --top-p P --top-k K --min-p M --seed S] [--n N] [--kv-dtype f32|f16] [--weights f32|bf16]
// Streams the continuation of one sequence to the terminal; with --n > 1 it
// samples N sequences in one batch and prints each when done.
import { pathKind } from '../io/path-kind.js';
import { parseArgs } from 'node:util';
import { GpuOutOfMemoryError } from '../gpu/errors.js';
import { Runtime } from '../gpu/runtime.js';
import { readQwen3Config } from '../io/hf-model.js';
import { generate } from '../model/generate.js';
import { KV_CACHE_DTYPES, type KvCacheDtype } from '../ops/decode-attention.js';
import { INFERENCE_WEIGHTS, loadInferenceModel, type InferenceWeights } from '../model/bf16-matrices.js';
import { loadTokenizer, renderChat, StreamDecoder } from '../tokenizer/index.js';
import { joinNegativeValues } from '../train/number-text.js';
import { integerOption, numberOption } from './options.js';

const USAGE = `usage: node generate.js --model DIR --prompt TEXT [--chat [--thinking]] [--max-new-tokens N]
                        [--temperature T] [--top-p P] [--top-k K] [--min-p M] [--seed S] [--n N]
                        [--kv-dtype f32|f16]   (KV cache precision; f16 takes half the memory)
                        [--weights f32|bf16]   (attention and MLP matrices; bf16 takes half the memory)`;

const OPTIONS = {
  model: { type: 'string' }, prompt: { type: 'string' }, chat: { type: 'boolean' }, thinking: { type: 'boolean' },
  'max-new-tokens': { type: 'string' }, temperature: { type: 'string' }, 'top-p': { type: 'string' },
  'top-k': { type: 'string' }, 'min-p': { type: 'string' }, seed: { type: 'string' }, n: { type: 'string' },
  'kv-dtype': { type: 'string' }, weights: { type: 'string' }, help: { type: 'boolean' },
} as const;

/** The model folder, checked first: every file read next would otherwise name its own path. */
function checkModelFolder(dir: string): void {
  const kind = pathKind(dir);
  if (kind !== 'dir') throw new Error(`the model folder ${dir} ${kind === 'missing' ? 'does not exist' : 'is not a folder'}`);
}

async function main(): Promise<void> {
  // `--temperature -1` reaches the option's range check, not parseArgs' "argument is ambiguous".
  const { values } = parseArgs({ args: joinNegativeValues(process.argv.slice(2), OPTIONS), options: OPTIONS });
  if (values.help || !values.model || values.prompt === undefined) {
    process.stderr.write(USAGE + '\n');
    process.exit(values.help ? 0 : 2);
  }
  // Without --chat the prompt is sent as written, so there is no template for --thinking to change.
  if (values.thinking && !values.chat) throw new Error('--thinking needs --chat (it sets the chat template\'s enable_thinking)');
  const maxNewTokens = integerOption('max-new-tokens', values['max-new-tokens'], 256, 1);
  const sampling = {
    temperature: numberOption('temperature', values.temperature, 0.6, (v) => v >= 0, 'a number >= 0'),
    topP: numberOption('top-p', values['top-p'], 0.95, (v) => v > 0 && v <= 1, 'a number in (0, 1]'),
    topK: integerOption('top-k', values['top-k'], 20, 0),
    minP: numberOption('min-p', values['min-p'], 0, (v) => v >= 0 && v <= 1, 'a number in [0, 1]'),
    seed: integerOption('seed', values.seed, 0, 0),
  };
  const n = integerOption('n', values.n, 1, 1);
  const kvCacheDtype = values['kv-dtype'] ?? 'f32';
  if (!(KV_CACHE_DTYPES as readonly string[]).includes(kvCacheDtype)) throw new Error(`--kv-dtype must be one of ${KV_CACHE_DTYPES.join(', ')}; got '${kvCacheDtype}'`);
  const weights = values.weights ?? 'f32';
  if (!(INFERENCE_WEIGHTS as readonly string[]).includes(weights)) throw new Error(`--weights must be one of ${INFERENCE_WEIGHTS.join(', ')}; got '${weights}'`);
  checkModelFolder(values.model);
  const tokenizer = await loadTokenizer(values.model);
  const text = values.chat
    ? renderChat([{ role: 'user', content: values.prompt }], { addGenerationPrompt: true, enableThinking: values.thinking ?? false })
    : values.prompt;
  const prompt = await tokenizer.encode(text);
  if (prompt.length === 0) throw new Error('the prompt encodes to no tokens');
  // config.json is read before the weights, so a too-long prompt (or a broken config) fails first.
  const config = await readQwen3Config(values.model);
  const context = config.maxPositionEmbeddings;
  if (prompt.length >= context) {
    throw new Error(`the prompt has ${prompt.length} tokens; the model's context holds ${context} (config.json max_position_embeddings: prompt plus at least one new token)`);
  }
  if (tokenizer.vocabSize > config.vocabSize) {
    throw new Error(`tokenizer has ${tokenizer.vocabSize} tokens but the model's vocabulary is ${config.vocabSize}`);
  }
  const rt = await Runtime.create();
  const model = await loadInferenceModel(rt, values.model, weights as InferenceWeights);
  // Qwen3's embedding has padding rows past the tokenizer's ids: a sampled one prints U+FFFD.
  const stream = n === 1 ? new StreamDecoder(tokenizer, { outOfVocabulary: 'replace' }) : null;
  // The stop token (<|im_end|> / <|endoftext|>) ends the text; it is not part of it, so it is not printed.
  const stopIds = new Set(tokenizer.stopIds);
  const t0 = performance.now();
  const gens = await generate(model, Array.from({ length: n }, () => prompt), {
    maxNewTokens, stopIds: tokenizer.stopIds, sampling, kvCacheDtype: kvCacheDtype as KvCacheDtype,
    onToken: stream ? (_seq, id) => { if (!stopIds.has(id)) process.stdout.write(stream.push(id)); } : undefined,
  });
  const seconds = (performance.now() - t0) / 1000;
  if (stream) process.stdout.write(stream.flush() + '\n');
  else {
    gens.forEach((g, i) => {
      const ids = g.finish === 'stop' ? g.tokens.subarray(0, -1) : g.tokens;
      process.stdout.write(`--- sample ${i + 1} (${g.finish}) ---\n${tokenizer.decode(ids, { outOfVocabulary: 'replace' })}\n`);
    });
  }
  // A sequence the context ran out for ends short of --max-new-tokens as 'length' all the same: say so, once.
  const cut = gens.filter((g) => g.finish === 'length' && g.tokens.length < maxNewTokens);
  if (cut.length > 0) {
    const newTokens = Math.max(...cut.map((g) => g.tokens.length));
    process.stderr.write(`generate: stopped at the model's context limit (${context} positions) after ${newTokens} new tokens, short of --max-new-tokens ${maxNewTokens}\n`);
  }
  const total = gens.reduce((s, g) => s + g.tokens.length, 0);
  process.stderr.write(`[${total} tokens in ${seconds.toFixed(2)} s, ${(total / seconds).toFixed(1)} tokens/s on ${rt.gpu.name}]\n`);
}

main().catch((err: unknown) => {
  const advice = err instanceof GpuOutOfMemoryError ? '; --weights bf16, --kv-dtype f16 and a smaller --n take less' : '';
  process.stderr.write(`generate: ${(err as Error).message}${advice}\n`);
  process.exit(1);
});
