// Driving an ext_proc processor over real gRPC as Envoy does: one bidi stream per HTTP request,
// each message sent after the answer to the one before.
import http2 from 'node:http2';
import { credentials, type ClientDuplexStream, type ServiceDefinition } from '@grpc/grpc-js';
import { EXTERNAL_PROCESSOR_METHOD, loadExtProc } from '@mcp-gateway/node-extproc';

/** A ProcessingResponse as the grpc-js client decodes it; the assertions pin the parts they read. */
export type DecodedAnswer = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A grpc-js client of `envoy.service.ext_proc.v3.ExternalProcessor`. */
export interface ExtProcClient {
  Process(): ClientDuplexStream<object, DecodedAnswer>;
  close(): void;
}

/** A client of the processor listening on 127.0.0.1:`port` (plaintext, as Envoy reaches it). */
export function connectExtProc(port: number): ExtProcClient {
  const { Client } = loadExtProc();
  return new Client(`127.0.0.1:${port}`, credentials.createInsecure()) as unknown as ExtProcClient;
}

/** An HttpHeaders message: header values in raw_value, as Envoy sends them. */
export const httpHeaders = (entries: Record<string, string>) => ({
  headers: { headers: Object.entries(entries).map(([key, value]) => ({ key, raw_value: Buffer.from(value) })) },
});

/**
 * Sends each message on one stream, each after the answer to the one before, and resolves with
 * the answers once the processor ends the stream (or after the last message, the client ends it).
 */
export function exchange(client: ExtProcClient, messages: readonly object[]): Promise<DecodedAnswer[]> {
  return new Promise((resolve, reject) => {
    const stream = client.Process();
    const answers: DecodedAnswer[] = [];
    let next = 0;
    const send = () => {
      const message = messages[next++];
      if (message === undefined) stream.end();
      else stream.write(message);
    };
    stream.on('data', (answer: DecodedAnswer) => {
      answers.push(answer);
      send();
    });
    stream.on('error', reject);
    stream.on('end', () => resolve(answers));
    send();
  });
}

/** How a stream driven by {@link exchangeLikeEnvoy} ended. */
export interface EnvoyLikeExchange {
  readonly answers: DecodedAnswer[];
  /** The `grpc-status` of the processor's trailers; undefined when none arrived. */
  readonly grpcStatus: string | undefined;
  /** `processor` when the processor closed the stream (RST_STREAM) before the client had to reset it. */
  readonly closedBy: 'processor' | 'client';
  /** The stream's RST_STREAM code as the client saw it. */
  readonly rstCode: number | undefined;
}

/**
 * Drives one `Process` stream over raw HTTP/2 the way Envoy's ext_proc filter does, which the
 * grpc-js client does not: each message after the answer to the one before, the request side
 * never half-closed, and once the processor has sent its trailers (or after the last message),
 * the stream reset with INTERNAL_ERROR after `resetAfterMs`, unless the processor closed it first.
 */
export function exchangeLikeEnvoy(
  port: number,
  messages: readonly object[],
  { resetAfterMs = 200 }: { resetAfterMs?: number } = {},
): Promise<EnvoyLikeExchange> {
  const { requestSerialize, responseDeserialize } = loadExtProc().service['Process'] as ServiceDefinition[string];
  const session = http2.connect(`http://127.0.0.1:${port}`);
  const stream = session.request(
    { ':method': 'POST', ':path': EXTERNAL_PROCESSOR_METHOD, 'content-type': 'application/grpc', te: 'trailers' },
    { endStream: false },
  );
  const answers: DecodedAnswer[] = [];
  let next = 0;
  let pending = Buffer.alloc(0);
  let resetByClient = false;
  let grpcStatus: string | undefined;
  const send = () => {
    const message = messages[next++];
    if (message === undefined) return resetSoon();
    const payload = requestSerialize(message);
    const header = Buffer.alloc(5);
    header.writeUInt32BE(payload.length, 1);
    stream.write(Buffer.concat([header, payload]));
  };
  const resetSoon = () =>
    setTimeout(() => {
      if (stream.closed) return;
      resetByClient = true;
      stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    }, resetAfterMs);
  stream.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 5 && pending.length >= 5 + pending.readUInt32BE(1)) {
      const length = pending.readUInt32BE(1);
      answers.push(responseDeserialize(pending.subarray(5, 5 + length)) as DecodedAnswer);
      pending = pending.subarray(5 + length);
      send();
    }
  });
  stream.on('trailers', (trailers) => {
    grpcStatus = String(trailers['grpc-status']);
    resetSoon();
  });
  stream.on('error', () => {}); // the reset either side sends; the result says which
  return new Promise((resolve) => {
    stream.on('close', () => {
      session.close();
      resolve({ answers, grpcStatus, closedBy: resetByClient ? 'client' : 'processor', rstCode: stream.rstCode });
    });
    send();
  });
}
