import type { Logger } from '@mcp-gateway/core';
import type { Secret } from '../model/api-types.ts';
import { EXTENSION_REASONS, type ValidExtension } from '../model/extension-validation.ts';
import {
  checkKeyPair,
  checkPublicKeyPem,
  generateTrustedKeyPair,
  keyText,
  privateKeySecretName,
  trustedKeySecrets,
} from '../model/trusted-headers-key.ts';
import { TRUSTED_KEY_SECRET_KEY } from '../names.ts';
import { objectPath, type KubeApi } from './kube-api.ts';

/** What the key step needs of the reconcile context. */
export interface KeyContext {
  readonly api: KubeApi;
  readonly logger: Logger;
}

/** The key step's outcome: the public key's fingerprint (none without `trustedHeadersKey`), or why it failed. */
export type TrustedKeyResult =
  | { readonly ok: true; readonly fingerprint?: string }
  | { readonly ok: false; readonly reason: string; readonly message: string };

/**
 * Brings `spec.trustedHeadersKey` in line. `generate: Enabled`: keeps the pair when it is a
 * P-256 pair whose halves belong together; otherwise (one half missing, as after a failure
 * between two writes, or a half that is unreadable or from another pair) deletes what is there
 * and generates a new pair. `Disabled`: the Secret must exist and its `key` must be a P-256
 * public key; otherwise SecretNotFound or SecretInvalid, naming the Secret and the problem but
 * never its content. The Secrets are read from the API server, not from a cache: a pair just
 * written must be seen, or it would be written twice.
 */
export async function reconcileTrustedHeadersKey(ctx: KeyContext, valid: ValidExtension): Promise<TrustedKeyResult> {
  const spec = valid.extension.spec.trustedHeadersKey;
  if (spec === undefined) return { ok: true };
  const namespace = valid.extension.metadata.namespace ?? '';
  const name = `${namespace}/${spec.secretName}`;
  const publicSecret = await ctx.api.get<Secret>(objectPath('v1', 'Secret', namespace, spec.secretName));
  if (spec.generate === 'Enabled') return ensureGeneratedPair(ctx, valid, publicSecret);
  if (publicSecret === undefined) {
    return {
      ok: false,
      reason: EXTENSION_REASONS.secretNotFound,
      message: `trustedHeadersKey: Secret ${name} not found (create it with the PEM public key in data key "${TRUSTED_KEY_SECRET_KEY}", or set generate: Enabled)`,
    };
  }
  const pem = keyText(publicSecret);
  if (pem === undefined) {
    return {
      ok: false,
      reason: EXTENSION_REASONS.secretInvalid,
      message: `trustedHeadersKey: Secret ${name} has no data key "${TRUSTED_KEY_SECRET_KEY}"`,
    };
  }
  const check = checkPublicKeyPem(pem);
  if (check.ok) return { ok: true, fingerprint: check.fingerprint };
  return {
    ok: false,
    reason: EXTENSION_REASONS.secretInvalid,
    message: `trustedHeadersKey: data key "${TRUSTED_KEY_SECRET_KEY}" of Secret ${name} ${check.problem}`,
  };
}

async function ensureGeneratedPair(
  ctx: KeyContext,
  valid: ValidExtension,
  publicSecret: Secret | undefined,
): Promise<TrustedKeyResult> {
  const namespace = valid.extension.metadata.namespace ?? '';
  const secretName = valid.extension.spec.trustedHeadersKey?.secretName ?? '';
  const privateName = privateKeySecretName(secretName);
  const privateSecret = await ctx.api.get<Secret>(objectPath('v1', 'Secret', namespace, privateName));
  const publicPem = keyText(publicSecret);
  const privatePem = keyText(privateSecret);
  if (publicPem !== undefined && privatePem !== undefined) {
    const check = checkKeyPair(publicPem, privatePem);
    if (check.ok) return { ok: true, fingerprint: check.fingerprint };
    ctx.logger.warn('trusted headers key pair unusable, generating a new one', {
      namespace,
      secret: secretName,
      problem: check.problem,
    });
  } else if (publicSecret !== undefined || privateSecret !== undefined) {
    ctx.logger.warn('trusted headers key pair incomplete, generating a new one', { namespace, secret: secretName });
  }
  // A half (or an unusable pair) is deleted first, so the two Secrets always hold one pair.
  if (publicSecret !== undefined) await ctx.api.delete(objectPath('v1', 'Secret', namespace, secretName));
  if (privateSecret !== undefined) await ctx.api.delete(objectPath('v1', 'Secret', namespace, privateName));
  const pair = generateTrustedKeyPair();
  const [publicObject, privateObject] = trustedKeySecrets(valid, pair);
  // Private first: a public key the gateway may already read always has its signing half.
  await ctx.api.create(privateObject);
  await ctx.api.create(publicObject);
  ctx.logger.info('trusted headers key pair generated', { namespace, secret: secretName, private: privateName });
  return { ok: true, fingerprint: pair.fingerprint };
}
