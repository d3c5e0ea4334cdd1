/**
 * The shapes of the Kubernetes objects the controller reads and writes, as JSON (the API
 * server's wire form). Only the fields the controller uses are typed; everything else passes
 * through untouched.
 */

/** Object metadata (subset). Timestamps are RFC 3339 strings. */
export interface ObjectMeta {
  readonly name: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly generation?: number;
  readonly resourceVersion?: string;
  readonly creationTimestamp?: string;
  readonly deletionTimestamp?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly finalizers?: readonly string[];
  readonly ownerReferences?: readonly OwnerReference[];
}

export interface OwnerReference {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly uid: string;
  readonly controller?: boolean;
  readonly blockOwnerDeletion?: boolean;
}

/** Any object the controller handles. */
export interface KubeObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata: ObjectMeta;
}

/** A status condition per Kubernetes API conventions. */
export interface Condition {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
  readonly observedGeneration?: number;
  readonly lastTransitionTime: string;
}

export interface ObjectStatus {
  readonly conditions?: readonly Condition[];
}

export interface SecretKeyRef {
  readonly name: string;
  readonly key?: string;
}

/** MCPGatewayExtension spec (mcp.kuadrant.io/v1), field-compatible with the anchor. */
export interface McpGatewayExtensionSpec {
  readonly targetRef: {
    readonly group?: string;
    readonly kind?: string;
    readonly name: string;
    readonly namespace?: string;
    readonly sectionName?: string;
  };
  readonly publicHost?: string;
  readonly privateHost?: string;
  readonly backendPingIntervalSeconds?: number;
  readonly httpRouteManagement?: 'Enabled' | 'Disabled';
  readonly logLevel?: 'debug' | 'info' | 'warn' | 'error';
  readonly sessionStore?: { readonly secretName: string };
  /**
   * The anchor's URL elicitation: Enabled passes `--enable-url-elicitation` to the gateway and
   * routes `/tokens` to it (HTTPRoute `mcp-gateway-tokens-route`). The CRD defaults it to Disabled.
   */
  readonly urlElicitation?: 'Enabled' | 'Disabled';
  /** Beyond the anchor: the keys sealing users' stored credentials (env `CREDENTIAL_ENCRYPTION_KEYS`). */
  readonly credentialEncryption?: { readonly secretName: string };
  /** Beyond the anchor: the /tokens pages' browser login and how long a pasted token is kept (config `credentials`). */
  readonly userCredentials?: UserCredentialsSpec;
  readonly oauthProtectedResource?: {
    readonly authorizationServers?: readonly string[];
    readonly resourceName?: string;
    readonly resource?: string;
    readonly bearerMethodsSupported?: readonly string[];
    readonly scopesSupported?: readonly string[];
  };
  readonly caCertBundleRef?: SecretKeyRef;
  /** The anchor's key for the x-mcp-authorized header (TRUSTED_HEADER_PUBLIC_KEY). */
  readonly trustedHeadersKey?: { readonly secretName: string; readonly generate?: 'Enabled' | 'Disabled' };
  /** Beyond the anchor: the gateway verifies OAuth tokens (config `auth.oauth`). */
  readonly tokenVerification?: TokenVerificationSpec;
  /** Beyond the anchor: policy rules (config `policy`, as written). */
  readonly policy?: PolicySpec;
  /** Beyond the anchor: the audit record's options (config `audit`). */
  readonly audit?: { readonly arguments?: 'hash' | 'values' };
  /** Beyond the anchor: how long a call waits for the user's confirmation (config `confirmation`). */
  readonly confirmation?: { readonly timeoutSeconds?: number };
  /** The anchor's --enforce-capability-filtering (config `auth.trustedHeaders.enforceCapabilityFiltering`). */
  readonly enforceCapabilityFiltering?: boolean;
}

/**
 * `spec.userCredentials` of an extension: the config's top-level `credentials` section. The login
 * client's secret is read from a labelled Secret (key `clientSecret` by default) into the config.
 * @see docs/credentials.md
 */
export interface UserCredentialsSpec {
  /** How the /tokens pages sign a browser's user in (OpenID Connect, code with PKCE). */
  readonly login?: {
    /** Absent: the token verification's only issuer. */
    readonly issuer?: string;
    readonly clientId: string;
    /** Absent: a public client (PKCE only). */
    readonly clientSecretRef?: SecretKeyRef;
    readonly scopes?: readonly string[];
  };
  /** How long a pasted token is kept, 60 to 2592000 s (the gateway's default: 86400). */
  readonly pastedTokenTtlSeconds?: number;
}

/** `spec.tokenVerification`; absent fields default from `spec.oauthProtectedResource`. */
export interface TokenVerificationSpec {
  readonly issuers?: readonly string[];
  readonly audience?: string;
  readonly requiredScopes?: readonly string[];
}

/** One `spec.policy.rules[]` entry, in the config file's spelling. */
export interface PolicyRuleSpec {
  readonly name: string;
  readonly effect: string;
  readonly servers?: readonly string[];
  readonly tools?: readonly string[];
  readonly prompts?: readonly string[];
  readonly resources?: readonly string[];
  readonly when?: string;
}

/** `spec.policy`, in the config file's spelling. */
export interface PolicySpec {
  readonly default?: string;
  readonly rules?: readonly PolicyRuleSpec[];
}

export interface McpGatewayExtension extends KubeObject {
  readonly spec: McpGatewayExtensionSpec;
  readonly status?: ObjectStatus;
}

/** MCPServerRegistration spec; `toolPrefix` is the seed documents' alias of `prefix`. */
export interface McpServerRegistrationSpec {
  readonly targetRef: {
    readonly group?: string;
    readonly kind?: string;
    readonly name: string;
    readonly namespace?: string;
  };
  readonly prefix?: string;
  readonly toolPrefix?: string;
  readonly path?: string;
  readonly credentialRef?: SecretKeyRef;
  readonly caCertSecretRef?: SecretKeyRef;
  /** The anchor's per-user token collected by URL elicitation; `url`: an external page instead of `/tokens`. */
  readonly tokenURLElicitation?: { readonly url?: string };
  /** Beyond the anchor: the caller's token exchanged for one meant for this server (RFC 8693). */
  readonly tokenExchange?: TokenExchangeSpec;
  /** Beyond the anchor: the gateway as this server's OAuth client, authorized once per user. */
  readonly upstreamOAuth?: UpstreamOAuthSpec;
  readonly state?: 'Enabled' | 'Disabled';
  readonly userSpecificList?: 'Enabled' | 'Disabled';
  readonly category?: readonly string[];
  readonly hint?: string;
  readonly tags?: readonly string[];
  /** Beyond the anchor: how some of the server's tools are served (config `toolOverrides`). */
  readonly toolOverrides?: readonly ToolOverrideSpec[];
  /** Beyond the anchor: per-caller limits on the server's tools/calls (config `quotas`). */
  readonly quotas?: readonly QuotaSpec[];
  /** Beyond the anchor: calls of tools served as destructive wait for the user's confirmation (config `confirmDestructive`). */
  readonly confirmDestructive?: boolean;
  /** Beyond the anchor: pinned tool definitions (config `pinning`; approvals come from an annotation). */
  readonly pinning?: PinningSpec;
}

/**
 * `spec.tokenExchange`: where and as which client the gateway exchanges a caller's token. The CRD
 * asks for exactly one of `tokenEndpoint` and `issuer`; the client secret is read from a labelled
 * Secret (key `clientSecret` by default) into the config entry.
 * @see https://www.rfc-editor.org/rfc/rfc8693
 */
export interface TokenExchangeSpec {
  readonly tokenEndpoint?: string;
  /** Found by authorization server metadata discovery. */
  readonly issuer?: string;
  readonly clientId: string;
  readonly clientSecretRef: SecretKeyRef;
  readonly audience?: string;
  readonly resource?: string;
  readonly scopes?: readonly string[];
}

/**
 * `spec.upstreamOAuth`: the gateway's client at the server's own authorization server; without
 * `clientId` the gateway registers itself (RFC 7591). The client secret is read like tokenExchange's.
 */
export interface UpstreamOAuthSpec {
  readonly clientId?: string;
  readonly clientSecretRef?: SecretKeyRef;
  readonly scopes?: readonly string[];
}

/** `spec.pinning`; the CRD defaults `onChange` to serveApproved. */
export interface PinningSpec {
  /** What is served of a changed tool until it is approved. */
  readonly onChange?: 'serveApproved' | 'withhold';
}

/**
 * One `spec.toolOverrides[]` entry, in the config file's spelling; the CRD bounds each field and
 * refuses `hidden: true` with any other field, and a `tool` or `name` given twice.
 * @see docs/configuration.md
 */
export interface ToolOverrideSpec {
  /** The upstream's own tool name. */
  readonly tool: string;
  /** The served name, exactly (no prefix added). */
  readonly name?: string;
  readonly description?: string;
  readonly descriptionSuffix?: string;
  readonly hidden?: boolean;
  /** Parameters removed from the served input schema and filled in on every call. */
  readonly fixedArguments?: Readonly<Record<string, unknown>>;
  /** Merged over the upstream's tool annotations. */
  readonly annotations?: Readonly<Record<string, unknown>>;
  /** Every call of the tool waits for the user's confirmation. */
  readonly confirm?: boolean;
}

/**
 * One `spec.quotas[]` entry, in the config file's spelling; the CRD bounds each field and refuses
 * a quota that limits nothing, `windowSeconds` without `requests`, two quotas without `tools`
 * and a tool named twice.
 * @see docs/configuration.md
 */
export interface QuotaSpec {
  /** The upstream's own tool names; absent: the server's other tools together. */
  readonly tools?: readonly string[];
  /** Calls per caller per window. */
  readonly requests?: number;
  /** The window of `requests`; the gateway's default is 60. */
  readonly windowSeconds?: number;
  /** Calls per caller at once. */
  readonly concurrentCalls?: number;
}

export interface McpServerRegistration extends KubeObject {
  readonly spec: McpServerRegistrationSpec;
  readonly status?: ObjectStatus & { readonly toolPins?: ToolPinsStatus };
}

/** One quarantined tool definition in `status.toolPins` (the gateway's /status entry, bounded). */
export interface QuarantinedTool {
  readonly tool: string;
  /** `changed`, `added` or `renamed`. */
  readonly change: string;
  readonly renamedFrom?: string;
  readonly approvedDigest?: string;
  /** True when only the approved digest is known (a gateway seeded from `digests`): withheld until approved. */
  readonly approvedDefinitionUnknown?: boolean;
  readonly currentDigest: string;
  /** Unified diff of the approved and the current definition, cut at 4 KiB. */
  readonly diff?: string;
}

/** `status.toolPins` of a registration with `spec.pinning`: the gateway's report of its pins. */
export interface ToolPinsStatus {
  /** Namespace of the gateway whose report this is. */
  readonly gatewayNamespace: string;
  readonly onChange: string;
  readonly pinned: number;
  /**
   * The approved digest of each pinned tool by upstream name (at most 2 000); copied into the
   * server's config entry as `pinning.pinned`, so a gateway restarted on an empty store is seeded.
   */
  readonly digests?: Readonly<Record<string, string>>;
  readonly storeAvailable: boolean;
  /** Quarantined changes left out of `quarantined` (at most 32 are kept). */
  readonly omitted?: number;
  readonly quarantined: readonly QuarantinedTool[];
}

export interface McpVirtualServer extends KubeObject {
  readonly spec: {
    readonly description?: string;
    readonly tools: readonly string[];
    readonly prompts?: readonly string[];
  };
  readonly status?: ObjectStatus;
}

export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly {
    readonly key: string;
    readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
    readonly values?: readonly string[];
  }[];
}

/** A Gateway API listener (gateway.networking.k8s.io/v1). */
export interface Listener {
  readonly name: string;
  readonly port: number;
  readonly protocol: string;
  readonly hostname?: string;
  readonly allowedRoutes?: {
    readonly namespaces?: { readonly from?: 'All' | 'Same' | 'Selector' | 'None'; readonly selector?: LabelSelector };
  };
}

export interface Gateway extends KubeObject {
  readonly spec: { readonly gatewayClassName?: string; readonly listeners?: readonly Listener[] };
  readonly status?: {
    readonly listeners?: readonly { readonly name: string; readonly conditions?: readonly Condition[] }[];
  };
}

export interface ParentRef {
  readonly group?: string;
  readonly kind?: string;
  readonly name: string;
  readonly namespace?: string;
  readonly sectionName?: string;
  readonly port?: number;
}

export interface BackendRef {
  readonly group?: string;
  readonly kind?: string;
  readonly name: string;
  readonly namespace?: string;
  readonly port?: number;
}

export interface HttpRoute extends KubeObject {
  readonly spec: {
    readonly parentRefs?: readonly ParentRef[];
    readonly hostnames?: readonly string[];
    readonly rules?: readonly { readonly backendRefs?: readonly BackendRef[] }[];
  };
  readonly status?: {
    readonly parents?: readonly { readonly parentRef: ParentRef; readonly conditions?: readonly Condition[] }[];
  };
}

export interface ReferenceGrant extends KubeObject {
  readonly spec: {
    readonly from: readonly { readonly group: string; readonly kind: string; readonly namespace: string }[];
    readonly to: readonly { readonly group: string; readonly kind?: string; readonly name?: string }[];
  };
}

export interface Service extends KubeObject {
  readonly spec?: {
    readonly type?: string;
    readonly externalName?: string;
    readonly ports?: readonly { readonly name?: string; readonly port: number; readonly appProtocol?: string }[];
  };
}

export interface Secret extends KubeObject {
  readonly data?: Readonly<Record<string, string>>;
  readonly type?: string;
}

export interface Deployment extends KubeObject {
  readonly spec?: {
    readonly replicas?: number;
    readonly template?: {
      readonly metadata?: { readonly annotations?: Readonly<Record<string, string>> };
      readonly spec?: {
        readonly containers?: readonly { readonly name: string; readonly args?: readonly string[] }[];
      };
    };
  };
  readonly status?: { readonly replicas?: number; readonly readyReplicas?: number };
}

/** `<namespace>/<name>` of an object. */
export function keyOf(object: KubeObject): string {
  return `${object.metadata.namespace ?? ''}/${object.metadata.name}`;
}
