// Finding and reading a model folder's tokenizer.json and tokenizer_config.json, with error
// messages that name the folder or file at fault. Only the few facts the wrapper needs are kept
// from the parsed JSON (the Qwen3 file is 11 MB; the native binding parses it again itself).
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { TokenizerError } from './errors.js';

export interface AddedTokenInfo {
  id: number;
  content: string;
  /** Skipped by `decode(ids, { skipSpecialTokens: true })`. Qwen3's `<think>` is not special. */
  special: boolean;
}

export interface TokenizerFiles {
  /** The tokenizer.json that was read. */
  tokenizerPath: string;
  /** Its full text, handed to the native binding. */
  tokenizerText: string;
  addedTokens: AddedTokenInfo[];
  /** `decoder.type` in tokenizer.json, or null when there is no decoder. */
  decoderType: string | null;
  /** One past the largest token id in the model vocabulary and the added tokens. */
  idLimit: number;
  /** tokenizer_config.json next to tokenizer.json, when there is one. */
  configPath?: string;
  eosTokenName?: string;
  padTokenName?: string;
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

async function pathKind(path: string): Promise<'file' | 'folder' | 'missing'> {
  try {
    return (await stat(path)).isDirectory() ? 'folder' : 'file';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw new TokenizerError(`cannot access ${path}: ${(error as Error).message}`, { cause: error });
  }
}

async function readJson(path: string): Promise<{ text: string; json: unknown }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new TokenizerError(`cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    return { text, json: JSON.parse(text) };
  } catch (error) {
    throw new TokenizerError(`${path} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}

function readAddedTokens(json: JsonObject, path: string): AddedTokenInfo[] {
  const entries = json.added_tokens ?? [];
  if (!Array.isArray(entries)) throw new TokenizerError(`${path}: "added_tokens" is not a list`);
  return entries.map((entry: unknown, index) => {
    if (!isObject(entry) || !Number.isInteger(entry.id) || typeof entry.content !== 'string') {
      throw new TokenizerError(`${path}: added_tokens[${index}] needs an integer "id" and a string "content"`);
    }
    return { id: entry.id as number, content: entry.content, special: entry.special === true };
  });
}

function modelIdLimit(model: JsonObject, path: string): number {
  const vocab = model.vocab;
  // BPE / WordPiece / WordLevel store {token: id}; Unigram stores [[token, score], ...] by id.
  if (Array.isArray(vocab)) return vocab.length;
  if (!isObject(vocab)) throw new TokenizerError(`${path}: "model.vocab" is missing`);
  let limit = 0;
  for (const id of Object.values(vocab)) {
    if (typeof id === 'number' && id + 1 > limit) limit = id + 1;
  }
  return limit;
}

/** A token name in tokenizer_config.json: a string, `{content: string}`, or absent/null. */
function configTokenName(config: JsonObject, key: string, path: string): string | undefined {
  const value = config[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (isObject(value) && typeof value.content === 'string') return value.content;
  throw new TokenizerError(`${path}: "${key}" should be a token name, got ${JSON.stringify(value)}`);
}

/** Where tokenizer.json is: `dirOrFile` itself, or `tokenizer.json` inside that folder. */
async function locateTokenizerJson(dirOrFile: string): Promise<string> {
  const kind = await pathKind(dirOrFile);
  if (kind === 'missing') throw new TokenizerError(`tokenizer location ${dirOrFile} does not exist`);
  if (kind === 'file') return dirOrFile;
  const path = join(dirOrFile, 'tokenizer.json');
  if ((await pathKind(path)) !== 'file') {
    throw new TokenizerError(`no tokenizer.json in folder ${dirOrFile}`);
  }
  return path;
}

export async function readTokenizerFiles(dirOrFile: string): Promise<TokenizerFiles> {
  const tokenizerPath = await locateTokenizerJson(dirOrFile);
  const { text, json } = await readJson(tokenizerPath);
  if (!isObject(json) || !isObject(json.model)) {
    throw new TokenizerError(`${tokenizerPath} is not a tokenizer.json: it has no "model" object`);
  }
  const addedTokens = readAddedTokens(json, tokenizerPath);
  const idLimit = addedTokens.reduce((limit, t) => Math.max(limit, t.id + 1), modelIdLimit(json.model, tokenizerPath));
  const decoderType = isObject(json.decoder) && typeof json.decoder.type === 'string' ? json.decoder.type : null;
  const files: TokenizerFiles = { tokenizerPath, tokenizerText: text, addedTokens, decoderType, idLimit };

  const configPath = join(dirname(tokenizerPath), 'tokenizer_config.json');
  if ((await pathKind(configPath)) !== 'file') return files;
  const config = (await readJson(configPath)).json;
  if (!isObject(config)) throw new TokenizerError(`${configPath} is not a JSON object`);
  return {
    ...files,
    configPath,
    eosTokenName: configTokenName(config, 'eos_token', configPath),
    padTokenName: configTokenName(config, 'pad_token', configPath),
  };
}
