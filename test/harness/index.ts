// Shared helpers for the integration suites. Node-only; every process or server they
// start listens on loopback and is stopped by the helper that started it. The identity
// harness (OpenID provider, OAuth client, token forge) has its own entry, ./identity.ts.
export { freePort } from './free-port.ts';
export { GATEWAY_CLI, REPO_ROOT } from './repo-paths.ts';
export { startProcess, type ReadyWhen, type RunningProcess, type StartProcessOptions } from './process.ts';
export {
  startGateway,
  TEST_SIGNING_KEY,
  type RunningGateway,
  type StartGatewayOptions,
  type WriteConfigOptions,
} from './gateway.ts';
export {
  startSdkUpstream,
  type RecordedHttpRequest,
  type RecordedRequest,
  type SdkUpstream,
  type SdkUpstreamOptions,
} from './sdk-upstream.ts';
export {
  connectSdkClient,
  type ConnectedSdkClient,
  type SdkClientV1Options,
  type SdkClientV2Options,
} from './sdk-client.ts';
export { startRedis, type RunningRedis } from './redis.ts';
export {
  startWhoamiUpstream,
  type Caller,
  type WhoamiRequest,
  type WhoamiUpstream,
  type WhoamiUpstreamOptions,
} from './whoami-upstream.ts';
export {
  ENVOY_VENV,
  envoyBinary,
  startEnvoy,
  validateEnvoyConfig,
  type RunningEnvoy,
  type StartEnvoyOptions,
} from './envoy.ts';
export {
  startModernUpstream,
  type ModernRecordedRequest,
  type ModernUpstream,
  type ModernUpstreamOptions,
} from './modern-upstream.ts';
export {
  PYTHON_MCP_VENV,
  PYTHON_MCP_VERSION,
  pythonBinary,
  startPythonUpstream,
  type PythonUpstream,
  type PythonUpstreamOptions,
} from './python-upstream.ts';
export {
  GO_BUILD_TIMEOUT_MS,
  goUpstreamBinary,
  startGoUpstream,
  type GoUpstream,
  type GoUpstreamOptions,
} from './go-upstream.ts';
export { observabilityBinary, observabilityCacheDir, type ObservabilityBinaries } from './observability-binaries.ts';
export {
  hasSeries,
  startPrometheus,
  type PromMatrix,
  type PromQueryResult,
  type PromSample,
  type PromScalar,
  type PromTarget,
  type PromVector,
  type RunningPrometheus,
  type ScrapeTarget,
  type StartPrometheusOptions,
} from './prometheus.ts';
export {
  startJaeger,
  type AttributeValue,
  type JaegerSpan,
  type JaegerTrace,
  type RunningJaeger,
  type SpanKindName,
  type StartJaegerOptions,
  type TraceSearch,
} from './jaeger.ts';
