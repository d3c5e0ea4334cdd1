/**
 * The name a tool or prompt is served under: plain concatenation of the server's prefix and the
 * upstream name (the anchor's rule), so an empty prefix serves the name unchanged.
 * @see https://modelcontextprotocol.io/specification/2025-11-25/server/tools#tool-names
 */
export function prefixName(prefix: string, name: string): string {
  return prefix + name;
}

/**
 * The upstream name behind a served name, or undefined when `servedName` does not start with
 * `prefix`. Ambiguity: when one server's prefix is a prefix of another's (`a_` and `a_b_`), both
 * match `a_b_x`; callers try the longest server prefix first.
 * @see prefixName
 */
export function unprefixName(prefix: string, servedName: string): string | undefined {
  return servedName.startsWith(prefix) ? servedName.slice(prefix.length) : undefined;
}

/**
 * The URI a resource is served under. The prefix goes right after the scheme's `://` when the
 * URI has an authority marker (`test://x` → `test://s1_x`, `file:///a` → `file://s1_/a`), else
 * right after the scheme's `:` (`urn:isbn:1` → `urn:s1_isbn:1`); a string without a scheme gets
 * it in front. The scheme is the text before the first `:` when it uses only RFC 3986 scheme
 * characters ([A-Za-z0-9+.-]); the rule that it starts with a letter is relaxed so that the
 * mapping is reversible for every string (else `a` + `:x` and `a:x` would both give `a:ax`).
 * An empty prefix maps every URI to itself. Reversibility needs a prefix without `:` that does
 * not start with `/` (server prefixes such as `s1_` qualify).
 * @see https://modelcontextprotocol.io/specification/2025-11-25/server/resources#resource-uris
 * @see https://www.rfc-editor.org/rfc/rfc3986#section-3.1
 */
export function prefixUri(prefix: string, uri: string): string {
  if (prefix === '') return uri;
  const at = insertionPoint(uri);
  return at === 0 ? prefix + uri : uri.slice(0, at) + prefix + uri.slice(at);
}

/**
 * The upstream URI behind a served URI, or undefined when `servedUri` does not carry `prefix`
 * where `prefixUri` puts it. The same ambiguity rule as `unprefixName` applies: try the longest
 * server prefix first.
 * @see prefixUri
 */
export function unprefixUri(prefix: string, servedUri: string): string | undefined {
  if (prefix === '') return servedUri;
  const at = insertionPoint(servedUri);
  if (!servedUri.startsWith(prefix, at)) return undefined;
  return servedUri.slice(0, at) + servedUri.slice(at + prefix.length);
}

/**
 * The URI template a resource template is served under: the `prefixUri` rule applied to an
 * RFC 6570 template (`test://template/{id}/data` → `test://s1_template/{id}/data`). A template
 * whose scheme is itself an expression (`{scheme}://x`) has no literal scheme and gets the prefix
 * in front; URIs expanded from it then do not map back, so upstreams should use literal schemes.
 * @see https://modelcontextprotocol.io/specification/2025-11-25/server/resources#resource-templates
 * @see https://www.rfc-editor.org/rfc/rfc6570
 */
export function prefixUriTemplate(prefix: string, uriTemplate: string): string {
  // `{` is not a scheme character, so expressions never extend a scheme: one rule fits both.
  return prefixUri(prefix, uriTemplate);
}

/** Index where the prefix goes: after `scheme://`, after `scheme:`, or 0 without a scheme. */
function insertionPoint(uri: string): number {
  for (let i = 0; i < uri.length; i++) {
    const code = uri.charCodeAt(i);
    if (code === 0x3a) return uri.startsWith('//', i + 1) ? i + 3 : i + 1;
    if (!isSchemeChar(code)) return 0;
  }
  return 0;
}

function isSchemeChar(code: number): boolean {
  return (
    (code >= 0x61 && code <= 0x7a) || // a-z
    (code >= 0x41 && code <= 0x5a) || // A-Z
    (code >= 0x30 && code <= 0x39) || // 0-9
    code === 0x2b || // +
    code === 0x2d || // -
    code === 0x2e // .
  );
}
