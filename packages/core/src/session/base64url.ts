/** The base64url alphabet (RFC 4648 §5). */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** Character code → 6-bit value; -1 outside the alphabet. */
const VALUES = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUES[ALPHABET.charCodeAt(i)] = i;

const TEXT_ENCODER = new TextEncoder();
/** Refuses invalid UTF-8 instead of replacing it, as JOSE libraries do. */
const STRICT_DECODER = new TextDecoder('utf-8', { fatal: true });

/**
 * Encodes bytes as unpadded base64url, the encoding of every JWS segment.
 * @see https://www.rfc-editor.org/rfc/rfc7515#section-2
 */
export function toBase64url(bytes: Uint8Array): string {
  let out = '';
  const whole = bytes.length - (bytes.length % 3);
  for (let i = 0; i < whole; i += 3) {
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8) | (bytes[i + 2] as number);
    out +=
      ALPHABET.charAt(n >>> 18) +
      ALPHABET.charAt((n >>> 12) & 63) +
      ALPHABET.charAt((n >>> 6) & 63) +
      ALPHABET.charAt(n & 63);
  }
  const rest = bytes.length - whole;
  if (rest === 1) {
    const n = bytes[whole] as number;
    out += ALPHABET.charAt(n >>> 2) + ALPHABET.charAt((n & 3) << 4);
  } else if (rest === 2) {
    const n = ((bytes[whole] as number) << 8) | (bytes[whole + 1] as number);
    out += ALPHABET.charAt(n >>> 10) + ALPHABET.charAt((n >>> 4) & 63) + ALPHABET.charAt((n & 15) << 2);
  }
  return out;
}

/**
 * Decodes unpadded base64url; undefined unless `text` is the canonical encoding of some bytes
 * (alphabet only, no padding, unused trailing bits zero), so that one token has one spelling.
 */
export function fromBase64url(text: string): Uint8Array | undefined {
  const rest = text.length % 4;
  if (rest === 1) return undefined;
  const out = new Uint8Array(((text.length - rest) / 4) * 3 + (rest === 0 ? 0 : rest - 1));
  let bits = 0;
  let count = 0;
  let at = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const value = code < 128 ? (VALUES[code] as number) : -1;
    if (value < 0) return undefined;
    bits = (bits << 6) | value;
    count += 6;
    if (count >= 8) {
      count -= 8;
      out[at++] = (bits >>> count) & 0xff;
      bits &= (1 << count) - 1;
    }
  }
  return bits === 0 ? out : undefined;
}

/** JSON text of `value`, as UTF-8, in base64url. */
export function encodeJsonSegment(value: unknown): string {
  return toBase64url(TEXT_ENCODER.encode(JSON.stringify(value)));
}

/**
 * The JSON object a base64url segment holds; undefined when it is not canonical base64url, not
 * valid UTF-8, not JSON, or not an object.
 */
export function decodeJsonSegment(segment: string): Record<string, unknown> | undefined {
  const bytes = fromBase64url(segment);
  if (bytes === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(STRICT_DECODER.decode(bytes));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
