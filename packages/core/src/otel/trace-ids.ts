/**
 * Random trace and span ids, as lowercase hex: 16 and 8 random bytes drawn from the runtime's
 * cryptographic generator (Node and workerd both have `crypto.getRandomValues`) a pool at a time,
 * so an id costs a few string operations, not a call into the generator.
 */

const POOL_BYTES = 4_096;
const HEX: readonly string[] = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

let pool = new Uint8Array(0);
/** The pool in hex, one flat string: an id is a slice of it (a rope of pieces costs a flattening when read). */
let poolHex = '';
let next = 0;

function refill(): void {
  pool = crypto.getRandomValues(new Uint8Array(POOL_BYTES));
  const digits = new Array<string>(POOL_BYTES);
  for (let i = 0; i < POOL_BYTES; i++) digits[i] = HEX[pool[i] as number] as string;
  poolHex = digits.join('');
  next = 0;
}

/** The next `bytes` random bytes of the pool (not all zero), in hex; `into` gets the bytes themselves at `at`. */
function hex(bytes: number, into?: Uint8Array, at = 0): string {
  if (next + bytes > pool.length) refill();
  const start = next;
  next += bytes;
  for (let i = start; i < next; i++) {
    // All zeros is the invalid id of W3C trace context: draw again (one in 2^64 at worst).
    if (pool[i] === 0) continue;
    if (into !== undefined) for (let j = 0; j < bytes; j++) into[at + j] = pool[start + j] as number;
    return poolHex.slice(2 * start, 2 * next);
  }
  return hex(bytes, into, at);
}

/** A byte by the char codes of its two lowercase hex digits (first << 7 | second). */
const HEX_PAIR = new Uint8Array(1 << 14);
for (let byte = 0; byte < 256; byte++) {
  const digits = byte.toString(16).padStart(2, '0');
  HEX_PAIR[(digits.charCodeAt(0) << 7) | digits.charCodeAt(1)] = byte;
}

/** Writes the bytes of `hex` (lowercase hex digits, as a valid traceparent has them) into `into` at `at`. */
export function hexInto(hex: string, into: Uint8Array, at: number): void {
  for (let i = 0; i < hex.length; i += 2) {
    into[at + (i >> 1)] = HEX_PAIR[((hex.charCodeAt(i) & 0x7f) << 7) | (hex.charCodeAt(i + 1) & 0x7f)] as number;
  }
}

/** A new trace id: 32 hex digits, not all zero. */
export function newTraceId(): string {
  return hex(16);
}

/** A new span id: 16 hex digits, not all zero; with `into`, its 8 bytes are also written there at `at`. */
export function newSpanId(into?: Uint8Array, at = 0): string {
  return hex(8, into, at);
}
