/**
 * What the gateway counts, as a port: core records facts here and a host turns them into its
 * metrics (the Node host into Prometheus series with prom-client). Every label value comes from
 * a fixed set or from the config and catalog, never from what a client sent as is: a method the
 * gateway does not know is `other`, so no client can add series.
 * @see docs/observability.md
 */

/** How an MCP request to the endpoint ended. */
export type RequestOutcome = 'ok' | 'error' | 'unauthorized' | 'refused';

/**
 * How a forwarded call ended: answered (`ok`); a tool result with `isError` (`tool_error`); a
 * JSON-RPC error or an HTTP error from the upstream (`error`); refused by access rules
 * (`denied`); no answer at all: unreachable, timed out, or a stream that ended first (`unavailable`);
 * the client went away before the answer (`cancelled`, how a 2026-07-28 client cancels).
 */
export type CallOutcome =
  'ok' | 'tool_error' | 'error' | 'denied' | 'limited' | 'unconfirmed' | 'no_credential' | 'unavailable' | 'cancelled';

/** The host that made a decision: the broker, the Envoy router, or the worker. */
export type DecidingHost = 'broker' | 'router' | 'worker';

/** One forwarded call (tools/call, prompts/get, resources/read, …) and how it went. */
export interface CallFact {
  readonly host: string;
  readonly method: string;
  /** The server's config name. */
  readonly server: string;
  readonly kind: 'tool' | 'prompt' | 'resource';
  /** The served name (from the catalog: bounded). */
  readonly name: string;
  readonly outcome: CallOutcome;
  readonly seconds: number;
}

/** The router's phases: one per ext_proc message kind. */
export type RouterPhase = 'request_headers' | 'request_body' | 'response_headers' | 'response_body';

/**
 * A shared-state operation: a SessionStore method, or `publish` on a notification bus that
 * leaves the process (Redis pub/sub). A fixed set, so it is a bounded label value.
 */
export type StoreOperation =
  | 'lookup'
  | 'ensureBackendSession'
  | 'dropBackendSession'
  | 'terminate'
  | 'putPending'
  | 'takePending'
  | 'backendSessions'
  | 'readSelection'
  | 'writeSelection'
  | 'admitCall'
  | 'admitSessionCall'
  | 'releaseCall'
  | 'readPins'
  | 'readCredential'
  | 'writeCredential'
  | 'deleteCredential'
  | 'listCredentials'
  | 'putGrant'
  | 'takeGrant'
  | 'writePins'
  | 'publish';

export interface GatewayMetrics {
  /** One MCP request to the endpoint (any method, either era), answered. */
  request(method: string, outcome: RequestOutcome, seconds: number): void;
  /** One call forwarded (or refused before it was). */
  call(fact: CallFact): void;
  /** One access decision on a call, by the rule that decided (none: `open` or the default). */
  accessDecision(host: string, decidedBy: string, rule: string | undefined, allowed: boolean): void;
  /** A legacy session opened (initialize) or ended (DELETE); `jti` names it (never the token). */
  session(event: 'started' | 'ended', jti: string): void;
  /** A request on the legacy session `jti`, accepted by the session check (the active-sessions gauge). */
  sessionSeen(jti: string): void;
  /** A backend session opened on an upstream. */
  backendSessionOpened(server: string): void;
  /** A list_changed notification published to clients. */
  listChanged(list: 'tools' | 'prompts' | 'resources'): void;
  /** One ext_proc message answered by the router. */
  routerPhase(phase: RouterPhase, seconds: number): void;
  /** One operation on the shared store or bus, and whether it failed (see createMeasuredSessionStore). */
  storeOperation(operation: StoreOperation, ok: boolean, seconds: number): void;
}

const nothing = () => {};

/** Records nothing (the default of hosts without metrics). */
export const NO_METRICS: GatewayMetrics = Object.freeze({
  request: nothing,
  call: nothing,
  accessDecision: nothing,
  session: nothing,
  sessionSeen: nothing,
  backendSessionOpened: nothing,
  listChanged: nothing,
  routerPhase: nothing,
  storeOperation: nothing,
});

/** The MCP methods a label may name; any other is `other`. */
const KNOWN_METHODS: ReadonlySet<string> = new Set([
  'initialize',
  'ping',
  'notifications/initialized',
  'notifications/cancelled',
  'notifications/progress',
  'notifications/roots/list_changed',
  'logging/setLevel',
  'tools/list',
  'tools/call',
  'prompts/list',
  'prompts/get',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'resources/subscribe',
  'resources/unsubscribe',
  'completion/complete',
  'server/discover',
  'subscriptions/listen',
]);

/** The label value of a JSON-RPC method: itself when the gateway knows it, else `other`. */
export function methodLabel(method: string | undefined): string {
  if (method === undefined) return 'none';
  return KNOWN_METHODS.has(method) ? method : 'other';
}
