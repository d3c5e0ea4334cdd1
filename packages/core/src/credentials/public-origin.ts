/**
 * The origin users reach the gateway's /tokens pages at, as the anchor builds its links:
 * `X-Forwarded-Proto` (else https when the public host is configured, else the request's own
 * scheme) and the public host (`--mcp-gateway-public-host`; else the request's Host). The URL
 * elicitation's link and the pages' own Origin check both use it, so they always agree.
 */
export function publicOrigin(request: Request, publicHost: string | undefined): string {
  const url = new URL(request.url);
  const forwarded = request.headers.get('x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase();
  const scheme =
    forwarded === 'http' || forwarded === 'https'
      ? forwarded
      : publicHost !== undefined
        ? 'https'
        : url.protocol.slice(0, -1);
  return `${scheme}://${publicHost ?? request.headers.get('host') ?? url.host}`;
}
