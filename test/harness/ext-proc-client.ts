// Driving an ext_proc processor over real gRPC as Envoy does: one bidi stream per HTTP request,
// each message sent after the answer to the one before.
import { credentials, type ClientDuplexStream } from '@grpc/grpc-js';
import { loadExtProc } from '@mcp-gateway/node-extproc';

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
