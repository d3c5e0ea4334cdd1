import type { StateIndex } from './cluster-state.ts';
import { SECRET_LABEL } from '../names.ts';

/** Default key of a `clientSecretRef`. */
export const DEFAULT_CLIENT_SECRET_KEY = 'clientSecret';

/** readSecretValue's outcome: the value (none when no Secret is referenced), or why it cannot be read. */
export type SecretValue =
  { readonly ok: true; readonly value?: string } | { readonly ok: false; readonly message: string };

/**
 * The text of one key of a Secret a registration references, from the labelled Secrets the
 * controller watches. A message names the field, the Secret and the key, never a value.
 * @param defaultKey The key read when the reference names none (the CRD's default).
 * @param field The field the message names, e.g. `credentialRef`.
 */
export function readSecretValue(
  index: StateIndex,
  namespace: string,
  ref: { readonly name: string; readonly key?: string } | undefined,
  defaultKey: string,
  field: string,
): SecretValue {
  if (ref === undefined) return { ok: true };
  const secret = index.secrets.get(`${namespace}/${ref.name}`);
  if (secret === undefined) {
    return {
      ok: false,
      message: `${field}: Secret ${namespace}/${ref.name} not found (it must carry the label ${SECRET_LABEL}=true)`,
    };
  }
  const key = ref.key ?? defaultKey;
  const encoded = secret.data?.[key];
  if (encoded === undefined || encoded === '') {
    return { ok: false, message: `${field}: Secret ${namespace}/${ref.name} has no key ${key}` };
  }
  return { ok: true, value: Buffer.from(encoded, 'base64').toString('utf8') };
}
