// The identity harness: a real OpenID provider, the SDK's OAuth client with a browser played by
// fetch, and the tokens and trusted headers a gateway must refuse. Kept out of index.ts so that
// suites which do not use it do not load oidc-provider.
export { authorizeInBrowser, type BrowserOptions } from './oauth-browser.ts';
export {
  connectOAuthClient,
  createHarnessOAuthProvider,
  type HarnessOAuthOptions,
  type HarnessOAuthProvider,
  type OAuthConnectedClient,
} from './oauth-client.ts';
export { authorizationCodeFlow, requestToken, type IssuedToken, type TokenClient } from './oauth-code-flow.ts';
export { DEFAULT_ACCOUNTS, type OidcAccount } from './oidc-accounts.ts';
export {
  DEFAULT_OIDC_SCOPES,
  startOidcProvider,
  type OidcProviderOptions,
  type RunningOidcProvider,
  type ServiceClient,
} from './oidc-provider.ts';
export type { JwksControl, JwksFault } from './jwks-fault.ts';
export { startRogueIssuer, type RogueIssuer } from './rogue-issuer.ts';
export { createSigningKey, type SigningAlg, type SigningKey } from './signing-keys.ts';
export { createTokenForge, ONE_MIB, unsigned, type TokenForge, type TokenForgeOptions } from './token-forge.ts';
export {
  createTrustedHeaderSigner,
  TRUSTED_HEADER,
  type AllowedCapabilities,
  type TrustedHeaderOptions,
  type TrustedHeaderSigner,
} from './trusted-header.ts';
