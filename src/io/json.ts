// JSON files people write by hand (training configs, rubric files): JSON.parse keeps the last of
// two equal keys without a word, so a repeated section would silently replace the first. YAML
// refuses duplicate keys; JSON files get the same check here.
import YAML from 'yaml';

/** JSON.parse, refusing an object with a key twice (the message says which key, and where). */
export function parseJsonWithUniqueKeys(text: string): unknown {
  const value: unknown = JSON.parse(text);
  // JSON is valid YAML 1.2 flow syntax; only the parser's duplicate-key findings are used.
  const duplicate = YAML.parseDocument(text, { uniqueKeys: true }).errors.find((e) => e.code === 'DUPLICATE_KEY');
  if (duplicate) {
    const at = duplicate.linePos?.[0];
    const key = text.slice(duplicate.pos[0]).match(/^"(?:[^"\\]|\\.)*"/)?.[0] ?? 'a key';
    throw new SyntaxError(`key ${key} appears twice in one object${at ? ` (line ${at.line}, column ${at.col})` : ''}`);
  }
  return value;
}
