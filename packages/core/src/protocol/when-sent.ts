/** Marks an answer made whole by the gateway ({@link wholeResponse}): known not to be a stream. */
const WHOLE = Symbol('whole answer');

type Marked = Response & { [WHOLE]?: true };

/**
 * A response whose body is all there (text, or none), marked so that {@link isEventStream}
 * knows it without reading its headers: on Node, reading them builds a Headers object that the
 * host's light Response would not otherwise need (about 1.5 µs a request). The mark is a
 * property of the response (a few ns; a WeakSet entry costs the garbage collector ~0.25 µs).
 */
export function wholeResponse(body: string | null, init: ResponseInit): Response {
  const response = new Response(body, init) as Marked;
  response[WHOLE] = true;
  return response;
}

/**
 * True for an SSE answer, whose body is sent over time (any other is read or written whole). Reads
 * the headers only (of a response not made by {@link wholeResponse}): on Node, touching `body`
 * turns the host's light Response into a full one, which then costs a stream read to send.
 */
export function isEventStream(response: Response): boolean {
  if ((response as Marked)[WHOLE] === true) return false;
  return (response.headers.get('content-type') ?? '').includes('text/event-stream');
}

/** How a response's body ended: sent whole, failed while read, or cancelled by the client. */
export type SentHow = 'sent' | 'failed' | 'cancelled';

/**
 * The response, with `done` called once its body has been sent, failed or been cancelled by
 * the client (or at once without a body).
 */
export function whenSent(response: Response, done: (how: SentHow) => void): Response {
  if (response.body === null) {
    done('sent');
    return response;
  }
  const reader = response.body.getReader();
  let finished = false;
  const finish = (how: SentHow) => {
    if (finished) return;
    finished = true;
    done(how);
  };
  const watched = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done: ended, value } = await reader.read();
        if (!ended) return controller.enqueue(value);
        finish('sent');
        controller.close();
      } catch (error) {
        finish('failed');
        controller.error(error);
      }
    },
    cancel(reason) {
      finish('cancelled');
      return reader.cancel(reason);
    },
  });
  return new Response(watched, { status: response.status, statusText: response.statusText, headers: response.headers });
}
