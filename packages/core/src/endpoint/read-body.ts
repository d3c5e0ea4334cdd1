import { GatewayError } from '../errors.ts';
import { readBytesWithin } from '../protocol/bytes.ts';

/** Default limit of a request body: 10 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;

/**
 * Reads a request body up to `maxBytes`, refusing early on a declared Content-Length and while
 * streaming otherwise, so an oversized body is never held whole. A body within its declared
 * length is read with `arrayBuffer()`, which hosts serve without a stream (@hono/node-server
 * reads the socket directly: ~20–45 µs less per request than a stream reader); HTTP framing
 * ends the body at that length, and a longer one (a Request built in-process) is still refused.
 * @throws GatewayError BODY_TOO_LARGE (413) naming the limit.
 */
export async function readBody(request: Request, maxBytes: number): Promise<Uint8Array> {
  const tooLarge = () =>
    new GatewayError('BODY_TOO_LARGE', `request body exceeds the limit of ${maxBytes} bytes`, {
      data: { limit: maxBytes },
    });
  const declared = Number(request.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) throw tooLarge();
  if (Number.isSafeInteger(declared) && declared >= 0) {
    const body = new Uint8Array(await request.arrayBuffer());
    if (body.byteLength > maxBytes) throw tooLarge();
    return body;
  }
  const body = await readBytesWithin(request.body, maxBytes);
  if (body === undefined) throw tooLarge();
  return body;
}
