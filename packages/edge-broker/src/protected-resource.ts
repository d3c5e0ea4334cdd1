/** Environment (or worker bindings) that shape the OAuth protected resource metadata. */
export interface ProtectedResourceEnv {
  OAUTH_RESOURCE_NAME?: string | undefined;
  OAUTH_RESOURCE?: string | undefined;
  OAUTH_AUTHORIZATION_SERVERS?: string | undefined;
  OAUTH_BEARER_METHODS_SUPPORTED?: string | undefined;
  OAUTH_SCOPES_SUPPORTED?: string | undefined;
}

/** RFC 9728 protected resource metadata served at /.well-known/oauth-protected-resource. */
export interface ProtectedResourceMetadata {
  resource_name: string;
  resource: string;
  authorization_servers: string[];
  bearer_methods_supported: string[];
  scopes_supported: string[];
}

/**
 * Builds the metadata from OAUTH_* values with the anchor's defaults: resource name
 * "MCP Server", resource "/mcp", no authorization servers, bearer methods ["header"],
 * scopes ["basic"]. List values are comma-separated.
 * @see https://www.rfc-editor.org/rfc/rfc9728.html#section-3.2
 */
export function toProtectedResourceMetadata(env: ProtectedResourceEnv): ProtectedResourceMetadata {
  return {
    resource_name: nonEmpty(env.OAUTH_RESOURCE_NAME) ?? 'MCP Server',
    resource: nonEmpty(env.OAUTH_RESOURCE) ?? '/mcp',
    authorization_servers: list(env.OAUTH_AUTHORIZATION_SERVERS) ?? [],
    bearer_methods_supported: list(env.OAUTH_BEARER_METHODS_SUPPORTED) ?? ['header'],
    scopes_supported: list(env.OAUTH_SCOPES_SUPPORTED) ?? ['basic'],
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

function list(value: string | undefined): string[] | undefined {
  const text = nonEmpty(value);
  if (text === undefined) return undefined;
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}
