/**
 * The Envoy external processor (ext_proc) host. It routes calls that belong to one upstream
 * through Envoy by header and body mutations; everything else goes to the broker.
 */

/** gRPC method Envoy calls, one bidirectional stream per HTTP request. */
export const EXTERNAL_PROCESSOR_METHOD = '/envoy.service.ext_proc.v3.ExternalProcessor/Process';

export { translateRequestBody } from './translate-request-body.ts';
export type { RequestBodyDeps, RequestBodyResult } from './translate-request-body.ts';
export { BROKER_SERVER_NAME, INTERNAL_HEADERS, translateRequestHeaders } from './translate-request-headers.ts';
export type { RequestHeadersInput } from './translate-request-headers.ts';
export { translateResponseHeaders } from './translate-response-headers.ts';
export type { ResponseHeadersDeps } from './translate-response-headers.ts';
export type { UpstreamRoute } from './upstream-route.ts';
export { METADATA_NAMESPACE } from './ext-proc-messages.ts';
export type { ProcessingResponse } from './ext-proc-messages.ts';
export { loadExtProc, PROTO_LOADER_OPTIONS } from './load-ext-proc.ts';
export type { ExtProcPackage } from './load-ext-proc.ts';
export { createHairpinFetch } from './hairpin-fetch.ts';
export { createProcessorDeps } from './processor-deps.ts';
export type { ProcessorDeps, ProcessorDepsOptions } from './processor-deps.ts';
export { handleProcessStream, startExtProcServer } from './processor.ts';
export type { ExtProcServer, ExtProcServerOptions } from './processor.ts';
