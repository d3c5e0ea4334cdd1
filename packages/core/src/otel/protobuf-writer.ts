/**
 * A protobuf writer for the few field types OTLP traces use, written for the gateway's spans
 * (see otlp-encoding.ts).
 * @see https://protobuf.dev/programming-guides/encoding/
 */

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LENGTH = 2;
export const WIRE_FIXED32 = 5;

const TWO_32 = 2 ** 32;
const utf8 = new TextEncoder();
/**
 * A protobuf writer for the few field types OTLP traces use. A length-delimited field reserves
 * one byte for its length and moves its contents when the length needs more (messages longer
 * than 127 bytes), so nothing is measured twice.
 */
export class ProtoWriter {
  buf: Uint8Array;
  view: DataView;
  pos = 0;

  constructor(size: number) {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer);
  }

  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  private ensure(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(this.buf.length * 2, this.pos + bytes));
    grown.set(this.buf.subarray(0, this.pos));
    this.buf = grown;
    this.view = new DataView(grown.buffer);
  }

  varint(value: number): void {
    this.ensure(10);
    while (value > 0x7f) {
      this.buf[this.pos++] = (value & 0x7f) | 0x80;
      value = Math.floor(value / 128);
    }
    this.buf[this.pos++] = value;
  }

  tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  fixed32(field: number, value: number): void {
    this.tag(field, WIRE_FIXED32);
    this.ensure(4);
    this.view.setUint32(this.pos, value, true);
    this.pos += 4;
  }

  /** Epoch milliseconds (with a fraction) as fixed64 nanoseconds, in exact 32-bit halves (no BigInt). */
  time(field: number, ms: number): void {
    this.tag(field, WIRE_FIXED64);
    this.ensure(8);
    const whole = Math.floor(ms);
    const fraction = Math.round((ms - whole) * 1e6);
    // whole × 10^6 = (wHi·2^16 + wLo) × 10^6 = aHi·2^32 + aLo·2^16 + wLo × 10^6, a = wHi × 10^6.
    const wLo = whole % 65_536;
    const a = ((whole - wLo) / 65_536) * 1e6;
    const aLo = a % 65_536;
    const low = aLo * 65_536 + wLo * 1e6 + fraction;
    const high = (a - aLo) / 65_536 + Math.floor(low / TWO_32);
    this.view.setUint32(this.pos, low % TWO_32, true);
    this.view.setUint32(this.pos + 4, high, true);
    this.pos += 8;
  }

  double(field: number, value: number): void {
    this.tag(field, WIRE_FIXED64);
    this.ensure(8);
    this.view.setFloat64(this.pos, value, true);
    this.pos += 8;
  }

  int64(field: number, value: number): void {
    this.tag(field, WIRE_VARINT);
    if (value >= 0) return this.varint(value);
    // Negative: ten bytes of two's complement.
    let rest = BigInt.asUintN(64, BigInt(value));
    this.ensure(10);
    while (rest > 0x7fn) {
      this.buf[this.pos++] = Number(rest & 0x7fn) | 0x80;
      rest >>= 7n;
    }
    this.buf[this.pos++] = Number(rest);
  }

  /** `length` bytes of `from`, starting at `at`, as a bytes field (length < 128). */
  bytesOf(field: number, from: Uint8Array, at: number, length: number): void {
    this.tag(field, WIRE_LENGTH);
    this.ensure(length + 1);
    const buf = this.buf;
    let pos = this.pos;
    buf[pos++] = length;
    for (let i = 0; i < length; i++) buf[pos++] = from[at + i] as number;
    this.pos = pos;
  }

  string(field: number, text: string): void {
    this.tag(field, WIRE_LENGTH);
    const length = text.length;
    this.ensure(length * 3 + 5);
    if (length < 128) {
      // Short ASCII, the usual attribute: one byte per character, the length known.
      let at = this.pos + 1;
      let ascii = true;
      for (let i = 0; i < length; i++) {
        const code = text.charCodeAt(i);
        if (code >= 0x80) {
          ascii = false;
          break;
        }
        this.buf[at++] = code;
      }
      if (ascii) {
        this.buf[this.pos] = length;
        this.pos = at;
        return;
      }
    }
    const start = this.pos++;
    this.pos += utf8.encodeInto(text, this.buf.subarray(this.pos)).written;
    this.close(start);
  }

  /** Bytes written as they are (an encoding made before). */
  raw(bytes: Uint8Array): void {
    const length = bytes.length;
    this.ensure(length);
    if (length > 32) {
      // Longer runs (shared attribute sets) by the runtime's copy; short ones cost less in a loop.
      this.buf.set(bytes, this.pos);
      this.pos += length;
      return;
    }
    const buf = this.buf;
    let at = this.pos;
    for (let i = 0; i < length; i++) buf[at++] = bytes[i] as number;
    this.pos = at;
  }

  /** Opens a length-delimited field; returns where its length goes, for {@link close}. */
  open(field: number): number {
    this.tag(field, WIRE_LENGTH);
    this.ensure(1);
    return this.pos++;
  }

  close(start: number): void {
    const length = this.pos - start - 1;
    if (length < 0x80) {
      this.buf[start] = length;
      return;
    }
    let extra = 0;
    for (let rest = length >>> 7; rest > 0; rest >>>= 7) extra++;
    this.ensure(extra);
    this.buf.copyWithin(start + 1 + extra, start + 1, this.pos);
    this.pos += extra;
    let value = length;
    let at = start;
    while (value > 0x7f) {
      this.buf[at++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    this.buf[at] = value;
  }
}
