// Byte-level BPE (GPT-2 style, used by Qwen) stores every byte as one printable character:
// bytes that are already printable map to themselves, the rest (controls, space, 0x7F-0xA0,
// soft hyphen) to U+0100 onwards. Streaming decode needs a token's raw bytes, which the native
// binding does not expose, so the inverse table lives here.

function buildCharToByte(): Map<number, number> {
  const printable = (b: number): boolean =>
    (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const charToByte = new Map<number, number>();
  let nextShifted = 0x100;
  for (let b = 0; b < 256; b++) {
    charToByte.set(printable(b) ? b : nextShifted++, b);
  }
  return charToByte;
}

const CHAR_TO_BYTE = buildCharToByte();
const utf8 = new TextEncoder();

/**
 * The bytes a byte-level token stands for. Mirrors the Rust ByteLevel decoder exactly: if any
 * character of the token is outside the byte alphabet (possible for added tokens), the token
 * contributes its own UTF-8 bytes instead.
 */
export function byteLevelTokenBytes(token: string): Uint8Array {
  const bytes: number[] = [];
  for (const char of token) {
    const byte = CHAR_TO_BYTE.get(char.codePointAt(0)!);
    if (byte === undefined) return utf8.encode(token);
    bytes.push(byte);
  }
  return Uint8Array.from(bytes);
}
