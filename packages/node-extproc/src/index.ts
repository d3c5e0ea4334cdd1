/**
 * The Envoy external processor (ext_proc) host. It routes calls that belong to one upstream
 * through Envoy by headers and body edits; everything else goes to the broker.
 * The processor itself lands with the Envoy sidecar work; this package holds its stable names.
 */

/** gRPC method Envoy calls, one bidirectional stream per HTTP request. */
export const EXTERNAL_PROCESSOR_METHOD = '/envoy.service.ext_proc.v3.ExternalProcessor/Process';

/** Value of x-mcp-servername for requests the broker answers (the anchor's name). */
export const BROKER_SERVER_NAME = 'mcpBroker';
