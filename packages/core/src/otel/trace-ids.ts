/**
 * Random trace and span ids, as lowercase hex: 16 and 8 random bytes drawn from the runtime's
 * cryptographic generator (Node and workerd both have `crypto.getRandomValues`) a pool at a time,
 * so an id costs a few string operations, not a call into the generator. The bytes of the id
 * drawn last stay readable in their pool ({@link lastDrawn}), so a span keeps its id as bytes
 * for the exporter without copying them.
 */

/**
 * Large, because a call into the generator costs about 50 µs when it comes cold every few
 * milliseconds (3 µs in a loop): 64 KiB last 4 096 traced calls.
 */
const POOL_BYTES = 65_536;
/** A byte's two hex digits as char codes, high digit in the high byte. */
const HEX_CODES = Uint16Array.from({ length: 256 }, (_, byte) => {
  const digits = byte.toString(16).padStart(2, '0');
  return (digits.charCodeAt(0) << 8) | digits.charCodeAt(1);
});
const ascii = new TextDecoder();

let pool = new Uint8Array(0);
/** The pool in hex, one flat string: an id is a slice of it (a rope of pieces costs a flattening when read). */
let poolHex = '';
let next = 0;
let drawnAt = 0;

function refill(): void {
  pool = crypto.getRandomValues(new Uint8Array(POOL_BYTES));
  // The digits' char codes decoded at once (ASCII is UTF-8): no string built a piece at a time.
  const digits = new Uint8Array(2 * POOL_BYTES);
  for (let i = 0; i < POOL_BYTES; i++) {
    const codes = HEX_CODES[pool[i] as number] as number;
    digits[2 * i] = codes >> 8;
    digits[2 * i + 1] = codes & 0xff;
  }
  poolHex = ascii.decode(digits);
  next = 0;
}

/** The next `bytes` random bytes of the pool (not all zero), in hex. */
function hex(bytes: number): string {
  if (next + bytes > pool.length) refill();
  const start = next;
  next += bytes;
  for (let i = start; i < next; i++) {
    // All zeros is the invalid id of W3C trace context: draw again (one in 2^64 at worst).
    if (pool[i] === 0) continue;
    drawnAt = start;
    return poolHex.slice(2 * start, 2 * next);
  }
  return hex(bytes);
}

/** A hex digit's value by its char code (0-9, a-f or A-F), by arithmetic: no table to miss in the cache. */
function nibble(code: number): number {
  return (code & 0xf) + (code >> 6) * 9;
}

/** Writes the bytes of `hex` (hex digits, as a valid traceparent and the pool have them) into `into` at `at`. */
function hexInto(hex: string, into: Uint8Array, at: number): void {
  for (let i = 0; i < hex.length; i += 2) {
    into[at + (i >> 1)] = (nibble(hex.charCodeAt(i)) << 4) | nibble(hex.charCodeAt(i + 1));
  }
}

/**
 * A caller's trace id and span id (valid hex) as 24 bytes, written over the pool's next ones (so
 * no span allocates for them): read at {@link lastDrawn} from {@link lastDrawnAt}, the trace id first.
 */
export function callerIds(traceId: string, spanId: string): void {
  if (next + 24 > pool.length) refill();
  drawnAt = next;
  next += 24;
  hexInto(traceId, pool, drawnAt);
  hexInto(spanId, pool, drawnAt + 16);
}

/** The pool holding the bytes of the id drawn last (at {@link lastDrawnAt}); read before drawing another. */
export function lastDrawn(): Uint8Array {
  return pool;
}

/** Where the bytes of the id drawn last start in {@link lastDrawn}. */
export function lastDrawnAt(): number {
  return drawnAt;
}

/** A new trace id: 32 hex digits, not all zero. */
export function newTraceId(): string {
  return hex(16);
}

/** A new span id: 16 hex digits, not all zero. */
export function newSpanId(): string {
  return hex(8);
}
