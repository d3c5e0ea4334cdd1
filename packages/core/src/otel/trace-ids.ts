/**
 * Random trace and span ids, as lowercase hex: 16 and 8 random bytes drawn from the runtime's
 * cryptographic generator (Node and workerd both have `crypto.getRandomValues`) a pool at a time,
 * so an id costs a few string operations, not a call into the generator. The bytes of the id
 * drawn last stay readable in their pool ({@link lastDrawn}), so a span keeps its id as bytes
 * for the exporter without copying them; a caller's ids are read into the pool too.
 */
import { hasTraceparentLayout } from '../telemetry/gateway-tracer.ts';
import type { ParentContext } from './span-sampler.ts';

/**
 * The pool ids are drawn from: small, because a span holds its pool (and the pool's hex string)
 * for as long as it lives, and a stream's span may live for hours.
 */
const POOL_BYTES = 4_096;
/**
 * What one call into the generator fills, a pool after another: large, because a call costs
 * about 50 µs when it comes cold every few milliseconds (3 µs in a loop).
 */
const RESERVOIR_BYTES = 65_536;
/** A byte's two hex digits as char codes, high digit in the high byte. */
const HEX_CODES = Uint16Array.from({ length: 256 }, (_, byte) => {
  const digits = byte.toString(16).padStart(2, '0');
  return (digits.charCodeAt(0) << 8) | digits.charCodeAt(1);
});
const ascii = new TextDecoder();

let reservoir = new Uint8Array(0);
let reservoirAt = 0;
let pool = new Uint8Array(0);
/** The pool in hex, one flat string: an id is a slice of it (a rope of pieces costs a flattening when read). */
let poolHex = '';
let next = 0;
let drawnAt = 0;

function refill(): void {
  if (reservoirAt + POOL_BYTES > reservoir.length) {
    reservoir = crypto.getRandomValues(new Uint8Array(RESERVOIR_BYTES));
    reservoirAt = 0;
  }
  pool = reservoir.slice(reservoirAt, reservoirAt + POOL_BYTES);
  reservoirAt += POOL_BYTES;
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

const ZERO = 48;

/** A lowercase hex digit's value by its char code, or -1 for any other character. */
function digit(code: number): number {
  if (code >= ZERO && code <= 57) return code - ZERO;
  return code >= 97 && code <= 102 ? code - 87 : -1;
}

/**
 * The caller's context in a valid version-00 W3C `traceparent` (`00-` 32 lowercase hex digits
 * `-` 16 `-` 2, neither id all zeros), else undefined. Read once, a character at a time (it runs
 * on every traced request): the trace id's and span id's bytes go over the pool's next 24 (so no
 * span allocates for them), readable at {@link lastDrawn} from {@link lastDrawnAt}, trace id first.
 * @see https://www.w3.org/TR/trace-context/#traceparent-header
 */
export function callerContext(traceparent: string | null | undefined): ParentContext | undefined {
  if (!hasTraceparentLayout(traceparent)) return undefined;
  if (next + 24 > pool.length) refill();
  // The 24 bytes are used up even when the header turns out invalid: no later id may be drawn
  // from bytes this overwrote (its hex would not match them).
  const at = next;
  next += 24;
  let traceBits = 0;
  let spanBits = 0;
  // The trace id's 16 bytes from character 3, then the span id's 8 from character 36.
  for (let i = 0; i < 24; i++) {
    const from = i < 16 ? 3 + 2 * i : 36 + 2 * (i - 16);
    const high = digit(traceparent.charCodeAt(from));
    const low = digit(traceparent.charCodeAt(from + 1));
    if ((high | low) < 0) return undefined;
    const byte = (high << 4) | low;
    pool[at + i] = byte;
    if (i < 16) traceBits |= byte;
    else spanBits |= byte;
  }
  const flags = digit(traceparent.charCodeAt(54));
  if (traceBits === 0 || spanBits === 0 || (digit(traceparent.charCodeAt(53)) | flags) < 0) return undefined;
  drawnAt = at;
  return { traceId: traceparent.slice(3, 35), spanId: traceparent.slice(36, 52), sampled: (flags & 1) === 1 };
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
