// The setup of the credentials bench (issue 15) and of its profile: a real OpenID provider (in
// this process), three upstreams that answer alike, and gateways in front of them whose servers
// differ only in what goes upstream as the Authorization (service, pasted, exchanged), the caller
// alice, verified; her token pasted once on each gateway's /tokens page and exchanged once.
import { createTokenForge, startOidcProvider } from '../../test/harness/identity.ts';
import { createTokenPageBrowser } from '../../test/credentials/token-page.ts';
import { echoCall, isCallOk } from './call-phases.mjs';
import { waitForTools } from './list-memory-phases.mjs';
import { openMcpSession } from './mcp-http.mjs';
import { startBenchGateway, startUpstreams } from './processes.mjs';

/** The audience of the caller's token: the gateway's MCP URL as its verifier is configured. */
const AUDIENCE = 'https://gateway.bench.local/mcp';
const CALLER_SCOPE = 'mcp:tools';
/** Long-lived tokens, so that nothing expires (and nothing is exchanged again) during a run. */
const TOKEN_TTL_SECONDS = 3_600;
/** The servers of each gateway, by what goes upstream as the Authorization. */
export const VARIANTS = ['service', 'pasted', 'exchanged'];
/** The echo tool of `variant`'s server. */
export const credentialTool = (variant) => `${variant}_echo`;

/** The -32042 error's first elicitation in an answer (JSON or one SSE event), or undefined. */
function elicitationOf(response) {
  const json = response.text.startsWith('{') ? response.text : /^data: (.*)$/m.exec(response.text)?.[1];
  const error = json === undefined ? undefined : JSON.parse(json).error;
  return error?.code === -32042 ? error.data.elicitations[0] : undefined;
}

/**
 * Puts alice's upstream token in place for the pasted server as a user would: the call is
 * elicited, the /tokens page is opened with her bearer (the gateway's verifier tells who she is)
 * and its form posted with the CSRF cookie; then the call goes through.
 */
async function pasteOnce(gateway, session, callerAuthorization, upstreamToken) {
  const call = () => echoCall(session, credentialTool('pasted'))();
  const first = await call();
  const elicitation = elicitationOf(first);
  if (elicitation === undefined) {
    throw new Error(
      `${gateway.url}: the first pasted call was not elicited: ${first.status} ${first.text.slice(0, 300)}`,
    );
  }
  const browser = createTokenPageBrowser({ baseUrl: new URL(gateway.url).origin, bearer: callerAuthorization });
  const page = await browser.pasteToken(elicitation.url, upstreamToken);
  if (page.status !== 200) throw new Error(`the /tokens page answered ${page.status}: ${page.text.slice(0, 300)}`);
  const retry = await call();
  if (!isCallOk(retry)) throw new Error(`the call after the paste failed: ${retry.status} ${retry.text.slice(0, 300)}`);
}

/**
 * Starts the provider, the upstreams and one gateway per entry of `gateways` (name → options of
 * startBenchGateway: `cacheConnectionString`, `nodeArgs`), each with an MCP session of alice
 * (64 connections, declaring elicitation) whose pasted token is in place and whose exchange was
 * made. `defer(fn)` is given everything to stop. Resolves with `{ idp, upstream, gateways, sessions }`.
 */
export async function startCredentialBench(gateways, defer) {
  const idp = await startOidcProvider({ accessTokenTtl: TOKEN_TTL_SECONDS });
  defer(() => idp.stop());
  const upstream = await startUpstreams(VARIANTS.length, 1);
  defer(() => upstream.stop());
  const metadata = await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json();
  const servers = VARIANTS.map((variant, i) => ({
    name: variant,
    url: upstream.urls[i],
    prefix: `${variant}_`,
    yaml: [
      '    credential: "Bearer bench-service-credential"\n',
      variant === 'pasted' ? '    tokenURLElicitation: {}\n' : '',
      variant === 'exchanged'
        ? `    tokenExchange:\n      tokenEndpoint: ${JSON.stringify(metadata.token_endpoint)}\n` +
          `      clientId: ${JSON.stringify(idp.exchangeClient.clientId)}\n` +
          `      clientSecret: ${JSON.stringify(idp.exchangeClient.clientSecret)}\n` +
          `      audience: ${JSON.stringify(upstream.urls[i])}\n      scopes: [${CALLER_SCOPE}]\n`
        : '',
    ].join(''),
  }));
  const extraConfig = `auth:\n  oauth:\n    issuers: [${JSON.stringify(idp.issuer)}]\n    audience: ${JSON.stringify(AUDIENCE)}\n`;

  // alice's token for the gateway (the authorization code flow at the provider), and her token
  // for the pasted upstream (what she would copy from it).
  const caller = await idp.userToken({ account: 'alice', resource: AUDIENCE, scope: CALLER_SCOPE });
  const authorization = `Bearer ${caller.accessToken}`;
  const forge = createTokenForge({ issuer: idp.issuer, audience: upstream.urls[1], key: idp.keys.active });
  const pastedToken = await forge.valid({ sub: 'alice', exp: Math.floor(Date.now() / 1000) + TOKEN_TTL_SECONDS });

  const started = {};
  const sessions = {};
  for (const [name, options] of Object.entries(gateways)) {
    const gateway = await startBenchGateway(servers, { ...options, args: ['--enable-url-elicitation'], extraConfig });
    defer(() => gateway.stop());
    started[name] = gateway;
    const session = await openMcpSession(gateway.url, {
      connections: 64,
      authorization,
      capabilities: { elicitation: { url: {} } },
    });
    defer(() => session.close());
    sessions[name] = session;
    await waitForTools(session, VARIANTS.length);
    await pasteOnce(gateway, session, authorization, pastedToken);
    // The first exchanged call trades the token; later calls use it.
    const first = await echoCall(session, credentialTool('exchanged'))();
    if (!isCallOk(first)) throw new Error(`${name}: the first exchanged call failed: ${first.text.slice(0, 300)}`);
  }
  return { idp, upstream, gateways: started, sessions };
}
