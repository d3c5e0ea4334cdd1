import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeJsonSegment, fromBase64url, toBase64url } from './base64url.ts';

describe('base64url', () => {
  it("encodes any bytes as Node's unpadded base64url does, and decodes them back", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const text = toBase64url(bytes);

        expect(text).toBe(Buffer.from(bytes).toString('base64url'));
        expect(fromBase64url(text)).toEqual(bytes);
      }),
    );
  });

  it.each([
    ['padding', 'YQ=='],
    ['the standard alphabet', 'a+/b'],
    ['a length of 4n + 1', 'abcde'],
    ['unused bits set in the last character', 'YR'],
    ['a character outside ASCII', 'YQé'],
  ])('refuses %s', (_label, text) => {
    expect(fromBase64url(text)).toBeUndefined();
  });

  it('decodes a JSON object segment and refuses anything else', () => {
    const segment = (text: string) => Buffer.from(text).toString('base64url');

    expect(decodeJsonSegment(segment('{"a":1}'))).toEqual({ a: 1 });
    for (const text of ['[1]', '1', 'null', '"a"', '{', '']) expect(decodeJsonSegment(segment(text))).toBeUndefined();
    expect(decodeJsonSegment(Buffer.from([0x7b, 0xff, 0x7d]).toString('base64url'))).toBeUndefined();
  });
});
