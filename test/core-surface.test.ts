// Core's public surface is chosen, not grown: each entry exports exactly the names pinned here,
// and every value it exports is used by some host outside core (a type may be exported only as
// part of a signature hosts call). Changing an entry means changing this list, on purpose.
import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './harness/index.ts';

/** Each entry of @mcp-gateway/core that hosts use, and what it exports. */
const SURFACE: Readonly<Record<string, { file: string; values: readonly string[]; types: readonly string[] }>> = {
  '@mcp-gateway/core': {
    file: 'packages/core/src/index.ts',
    values: [
      'BROADCAST_TOPIC',
      'DEFAULT_SERVER_INFO',
      'EMPTY_CONFIG',
      'ERROR_CODES',
      'GatewayError',
      'LOOPBACK_HOSTS',
      'MIN_SIGNING_KEY_BYTES',
      'NOOP_LOGGER',
      'NO_METRICS',
      'NO_TRACER',
      'PINS_TOPIC',
      'RecentKeys',
      'accessConfigIssues',
      'admitCallTo',
      'approvePin',
      'assertCallAdmission',
      'assertCallRelease',
      'assertCredentialKey',
      'assertCredentialWrite',
      'assertGrant',
      'assertSigningKey',
      'assertToolSelection',
      'createCredentialSealer',
      'createGateway',
      'createMemoryNotificationBus',
      'createMeasuredNotificationBus',
      'createMeasuredSessionStore',
      'createMemorySessionStore',
      'createSplitNotificationBus',
      'exchangeToken',
      'fromStoredCallQuota',
      'fromStoredSelection',
      'isGatewayError',
      'parseConfig',
      'parseStoredPinRecord',
      'refreshUpstreamToken',
      'releaseCallFrom',
      'createTokenPages',
      'toPinRecordJson',
    ],
    types: [
      'AccessControl',
      'AccessEnv',
      'AuditConfig',
      'AuditRecord',
      'AuditSink',
      'AuthConfig',
      'BusMessage',
      'CallAdmission',
      'CallFact',
      'CallLimits',
      'CallOutcome',
      'BrowserLoginConfig',
      'ConfigResult',
      'CredentialSealer',
      'DiscoverySettings',
      'ExchangedToken',
      'Gateway',
      'GatewayConfig',
      'GatewayErrorCode',
      'GatewayErrorOptions',
      'GatewayMetrics',
      'CredentialSettings',
      'TokenExchangeConfig',
      'GatewayOptions',
      'GatewayRouting',
      'GatewayTracer',
      'HmacSha256Factory',
      'HmacSha256Signer',
      'IssuerConfig',
      'LogFields',
      'Logger',
      'McpEndpoint',
      'MemorySessionStoreOptions',
      'NotificationBus',
      'OAuthConfig',
      'OriginPolicy',
      'PendingRequest',
      'PinApproval',
      'PinChange',
      'PinRecord',
      'PinnedTool',
      'PolicyConfig',
      'PolicyRuleConfig',
      'ProtectedResourceMetadata',
      'QuarantinedTool',
      'RequestContext',
      'RequestOutcome',
      'RouterPhase',
      'ServerConfig',
      'ServerStatus',
      'SessionCallAdmission',
      'SessionLookup',
      'SessionStore',
      'SplitNotificationBusOptions',
      'StatusReport',
      'StoreOperation',
      'StoredCallQuota',
      'StoredSelection',
      'TokenExchangeOptions',
      'TokenExchangeTarget',
      'TokenPages',
      'TokenPagesDeps',
      'TokenPagesServer',
      'TrustedHeadersConfig',
      'UpstreamOAuthConfig',
      'UpstreamOAuthServer',
      'UserCredential',
      'VirtualServerConfig',
    ],
  },
  '@mcp-gateway/core/router': {
    file: 'packages/core/src/router.ts',
    values: [
      'admitCallQuota',
      'quotaCheckOf',
      'BACKEND_INIT_HEADERS',
      'DEFAULT_MAX_BODY_BYTES',
      'NO_AUDIT',
      'NO_METRICS',
      'NO_SPAN',
      'NO_TRACER',
      'NO_TRAIL',
      'NO_USER_CREDENTIALS',
      'ROUTER_HEADERS',
      'META',
      'answerOutcome',
      'argumentsOf',
      'authorizeForward',
      'checkModernHeaders',
      'concatBytes',
      'confirmationNeed',
      'createBackendInitTokens',
      'createCallScope',
      'createUpstreamClient',
      'decideRoute',
      'encodeHeaderValue',
      'ensureBackendSession',
      'isForwardedMethod',
      'isModernRequest',
      'isModernVersion',
      'mcpRoutedAttributes',
      'mcpSessionAttributes',
      'mcpSpanName',
      'noAnswer',
      'parseJsonRpcMessage',
      'refusalError',
      'rememberServerRequest',
      'requestMeta',
      'rewriteAnswer',
      'routerHeaders',
      'toJsonRpcError',
      'unverified',
      'upstreamStatusOf',
      'withTraceMeta',
    ],
    types: [
      'AdmittedCall',
      'AccessControl',
      'AnswerOutcome',
      'AuditTrail',
      'Auditor',
      'AuthRefusal',
      'Authentication',
      'Authorization',
      'BackendInitTokens',
      'BackendInitVerifyResult',
      'CallFact',
      'CallOutcome',
      'CallScope',
      'CallTarget',
      'CallVerdict',
      'Era',
      'ForwardPlan',
      'GatedCall',
      'GatewayMetrics',
      'GatewaySpan',
      'GatewayTracer',
      'JsonRpcId',
      'JsonRpcMessage',
      'JsonRpcRequest',
      'PresentedSession',
      'QuotaCheck',
      'RequestAccess',
      'ResultRewrite',
      'RouteContext',
      'RouteDecision',
      'RouterPhase',
      'SessionAdmission',
      'SessionCheck',
      'SessionClaims',
      'SessionGate',
      'TraceCarrier',
      'UpstreamClient',
      'UserCredentials',
    ],
  },
  '@mcp-gateway/core/otel': {
    file: 'packages/core/src/otel/index.ts',
    values: [
      'createOtlpHttpSender',
      'otlpGzip',
      'otlpHeaders',
      'otlpSetting',
      'otlpTarget',
      'otlpTimeoutMs',
      'otlpTracesUrl',
      'startOtelTracing',
      'withExportRetries',
    ],
    types: ['OtelEnv', 'OtelTracing', 'OtlpSender', 'OtlpTarget'],
  },
  '@mcp-gateway/core/testing': {
    file: 'packages/core/src/testing.ts',
    values: [
      'NO_AUDIT',
      'buildCatalog',
      'createAccessControl',
      'createCallerIdentities',
      'createSessionGate',
      'createSessionTokens',
      'prefixUri',
    ],
    types: ['SessionGateDeps', 'SessionTokens', 'UpstreamSnapshot'],
  },
};

/** The names an entry file exports, split into values and types (`export type { … }` or `type` specifiers). */
function exportsOf(file: string): { values: string[]; types: string[] } {
  const source = ts.createSourceFile(file, readFileSync(join(REPO_ROOT, file), 'utf8'), ts.ScriptTarget.Latest);
  const values: string[] = [];
  const types: string[] = [];
  source.forEachChild((node) => {
    if (!ts.isExportDeclaration(node) || node.exportClause === undefined || !ts.isNamedExports(node.exportClause)) {
      if (ts.isExportDeclaration(node)) throw new Error(`${file}: \`export *\` hides the surface`);
      return;
    }
    for (const element of node.exportClause.elements) {
      (node.isTypeOnly || element.isTypeOnly ? types : values).push(element.name.text);
    }
  });
  return { values: values.sort(), types: types.sort() };
}

/** Every file outside core that could import core: the hosts, the tests, the bench and the scripts. */
const OUTSIDE_CORE = execSync(
  "git ls-files 'packages/*.ts' 'test/*.ts' 'bench/*.mjs' 'examples/*.mjs' 'scripts/*.mjs'",
  {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  },
)
  .split('\n')
  .filter((file) => file !== '' && !file.startsWith('packages/core/') && !file.endsWith('core-surface.test.ts'))
  .map((file) => readFileSync(join(REPO_ROOT, file), 'utf8'));

describe.each(Object.entries(SURFACE))('%s', (specifier, pinned) => {
  it('exports exactly the pinned names', () => {
    expect(exportsOf(pinned.file)).toEqual({ values: [...pinned.values].sort(), types: [...pinned.types].sort() });
  });

  it('exports no value that nothing outside core uses', () => {
    const importers = OUTSIDE_CORE.filter((text) => text.includes(`'${specifier}'`));
    const unused = pinned.values.filter((name) => !importers.some((text) => new RegExp(`\\b${name}\\b`).test(text)));
    expect(unused).toEqual([]);
  });
});
