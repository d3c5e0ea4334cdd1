import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { traceIdOf } from '../telemetry/gateway-tracer.ts';
import { callerContext, lastDrawn, lastDrawnAt, newSpanId, newTraceId } from './trace-ids.ts';

const CALLER = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const drawnHex = (bytes: number) =>
  Buffer.from(lastDrawn().subarray(lastDrawnAt(), lastDrawnAt() + bytes)).toString('hex');

describe('trace ids', () => {
  it("reads a caller's traceparent into its ids, their bytes and its sampled flag", () => {
    expect(callerContext(CALLER)).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      sampled: true,
    });
    expect(drawnHex(24)).toBe('4bf92f3577b34da6a3ce929d0e0e473600f067aa0ba902b7');
    expect(callerContext(CALLER.replace(/01$/, '02'))?.sampled).toBe(false);
    expect(callerContext(CALLER.replace(/01$/, 'ff'))?.sampled).toBe(true);
  });

  it('refuses what W3C trace context does not allow', () => {
    for (const bad of [
      undefined,
      null,
      '',
      CALLER.toUpperCase(),
      CALLER.replace(/^00/, '01'),
      `${CALLER}-`,
      CALLER.replace('4bf92f3577b34da6a3ce929d0e0e4736', '0'.repeat(32)),
      CALLER.replace('00f067aa0ba902b7', '0'.repeat(16)),
      CALLER.replace(/01$/, '0g'),
      CALLER.replace('-00f0', '_00f0'),
    ]) {
      expect(callerContext(bad)).toBeUndefined();
    }
  });

  it('agrees with the traceparent check the off tracer uses, on any string', () => {
    const hex = fc.constantFrom(...'0123456789abcdefABCDEFg-'.split(''));
    const near = fc
      .tuple(fc.array(hex, { minLength: 55, maxLength: 55 }), fc.nat(54), fc.nat(54))
      .map(([chars, a, b]) => {
        const text = CALLER.split('');
        text[a] = chars[a] as string;
        text[b] = chars[b] as string;
        return text.join('');
      });
    fc.assert(
      fc.property(fc.oneof(near, fc.string({ maxLength: 60 })), (text) => {
        expect(callerContext(text)?.traceId).toBe(traceIdOf(text));
      }),
      { numRuns: 5_000 },
    );
  });

  it('draws ids that are not all zeros, their bytes where lastDrawn says', () => {
    for (let i = 0; i < 10_000; i++) {
      const span = newSpanId();
      expect(drawnHex(8)).toBe(span);
      const trace = newTraceId();
      expect(drawnHex(16)).toBe(trace);
    }
    expect(newSpanId()).toMatch(/^[0-9a-f]{16}$/);
  });
});
