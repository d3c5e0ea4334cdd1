// A fetch-shaped function on undici.request (the Dispatcher API), returning a web Response:
// the prototype behind the suggestion to give core's fetchFor port this instead of global
// fetch on Node. JSON answers are buffered (they are read whole anyway); other bodies
// (SSE) stream through Readable.toWeb. Not a full fetch: no redirects, no content
// decoding, no Request objects as input; enough for the gateway's upstream traffic.
import { Readable } from 'node:stream';
import { request } from 'undici';

const NO_BODY = new Set([101, 204, 205, 304]);

/** fetch(url, init) for string or URL inputs. */
export async function undiciFetch(input, init = {}) {
  const headers = init.headers instanceof Headers ? Object.fromEntries(init.headers) : init.headers;
  const res = await request(input, {
    method: init.method ?? 'GET',
    headers,
    body: init.body ?? undefined,
    signal: init.signal ?? undefined,
  });
  const out = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    if (Array.isArray(value)) for (const v of value) out.append(name, v);
    else if (value !== undefined) out.append(name, value);
  }
  if (NO_BODY.has(res.statusCode) || init.method === 'HEAD') {
    res.body.resume();
    return new Response(null, { status: res.statusCode, headers: out });
  }
  const type = out.get('content-type') ?? '';
  const body = type.includes('application/json') ? await res.body.arrayBuffer() : Readable.toWeb(res.body);
  return new Response(body, { status: res.statusCode, headers: out });
}
