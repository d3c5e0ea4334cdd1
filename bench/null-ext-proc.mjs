// A do-nothing ext_proc processor for the bench's Envoy phase: it answers every message it is
// sent with CONTINUE and no mutation (request headers, request body, response headers, then it
// closes the stream), on the same grpc-js server settings as the gateway's router. Envoy with
// this processor, in front of the same upstream, shows what the ext_proc filter and a gRPC
// round trip per message cost by themselves on this machine; the gateway's router is measured
// against it. Prints BENCH_NULL_EXT_PROC_READY {"port":N} when listening.
//
//   node bench/null-ext-proc.mjs
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { loadExtProc } from '../packages/node-extproc/src/load-ext-proc.ts';

const ANSWERS = {
  request_headers: Object.freeze({ request_headers: {} }),
  request_body: Object.freeze({ request_body: {} }),
  response_headers: Object.freeze({ response_headers: {} }),
};

const server = new Server();
// The router's own settings (packages/node-extproc/src/processor.ts, tuneHttp2Server).
Object.assign(server.commonServerOptions ?? {}, {
  streamResetBurst: Number.MAX_SAFE_INTEGER,
  streamResetRate: Number.MAX_SAFE_INTEGER,
  noDelay: true,
});
server.addService(loadExtProc().service, {
  Process(stream) {
    stream.on('data', (message) => {
      const answer = ANSWERS[message.request];
      if (answer === undefined) return stream.end();
      stream.write(answer);
      if (message.request === 'response_headers') stream.end();
    });
    stream.on('end', () => {
      if (!stream.writableEnded) stream.end();
    });
    stream.on('error', () => {});
  },
});
server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, port) => {
  if (error !== null) throw error;
  process.stdout.write(`BENCH_NULL_EXT_PROC_READY ${JSON.stringify({ port })}\n`);
});
