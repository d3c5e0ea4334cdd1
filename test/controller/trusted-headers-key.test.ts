// spec.trustedHeadersKey against a real API server: the generated pair, its repair, a key brought
// by the user (checked, watched without the Secret label), and the gateway Deployment reading it.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { objectPath, type KubeObject } from '@mcp-gateway/controller';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  configText,
  extension,
  extensionGrant,
  gateway,
  markDeploymentReady,
  ns,
  secretText,
  startTestCluster,
  waitFor,
  waitReason,
  type TestCluster,
} from './cluster.ts';

let cluster: TestCluster;
const all = { namespaces: { from: 'All' } };
const target = (sectionName: string) => ({ name: 'mcp-gateway', namespace: 'mcp-system', sectionName });

type Deployment = KubeObject & {
  spec: {
    template: {
      metadata: { annotations?: Record<string, string> };
      spec: { containers: Array<{ env?: Array<{ name: string; valueFrom?: unknown }> }> };
    };
  };
};
type OwnedSecret = KubeObject & { metadata: { ownerReferences?: Array<Record<string, unknown>> } };

const deploymentOf = (namespace: string) =>
  cluster.api.get<Deployment>(objectPath('apps/v1', 'Deployment', namespace, 'mcp-gateway'));
const annotationOf = async (namespace: string) =>
  (await deploymentOf(namespace))?.spec.template.metadata.annotations?.['mcp.kuadrant.io/trusted-headers-key'];

/** What the controller writes as the key's fingerprint: SHA-256 of the DER public key, 16 hex digits. */
function fingerprint(publicPem: string): string {
  const der = createPublicKey(publicPem).export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex').slice(0, 16);
}

function publicPem(curve: string): string {
  return generateKeyPairSync('ec', { namedCurve: curve }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
}

/** A Secret the user writes, without the mcp.kuadrant.io/secret label (the anchor does not ask for it). */
function userSecret(namespace: string, name: string, key: string) {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { namespace, name },
    stringData: { key },
  };
}

beforeAll(async () => {
  cluster = await startTestCluster();
  cluster.startReplica();
  const listener = (name: string, port: number) => ({
    name,
    port,
    protocol: 'HTTP',
    hostname: `*.${name}.mcp.local`,
    allowedRoutes: all,
  });
  await cluster.apply(
    ns('mcp-system'),
    ns('keys-gen'),
    ns('keys-byo'),
    gateway('mcp-system', 'mcp-gateway', [listener('gen', 8081), listener('byo', 8082)]),
    extensionGrant('mcp-system', 'keys-gen'),
    extensionGrant('mcp-system', 'keys-byo'),
    extension('keys-gen', 'ext', target('gen'), {
      trustedHeadersKey: { secretName: 'trusted-key', generate: 'Enabled' },
      enforceCapabilityFiltering: true,
    }),
  );
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('a generated trusted-header key pair', () => {
  let firstPublic = '';

  it('is two Secrets owned by the extension: a PKIX P-256 public key and its EC private key', async () => {
    const publicText = await waitFor(
      'the public key Secret',
      () => secretText(cluster.api, 'keys-gen', 'trusted-key', 'key'),
      (text) => text !== undefined,
    );
    const privateText = await waitFor(
      'the private key Secret',
      () => secretText(cluster.api, 'keys-gen', 'trusted-key-private', 'key'),
      (text) => text !== undefined,
    );
    expect(publicText).toMatch(/^-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/=\n]+-----END PUBLIC KEY-----\n$/);
    expect(privateText).toMatch(/^-----BEGIN EC PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+-----END EC PRIVATE KEY-----\n$/);
    const key = createPublicKey(publicText ?? '');
    expect(key.asymmetricKeyType).toBe('ec');
    expect(key.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const derived = createPublicKey(createPrivateKey(privateText ?? '')).export({ type: 'spki', format: 'pem' });
    expect(derived).toBe(publicText);
    const ext = await cluster.api.get(objectPath('mcp.kuadrant.io/v1', 'MCPGatewayExtension', 'keys-gen', 'ext'));
    for (const name of ['trusted-key', 'trusted-key-private']) {
      const secret = await cluster.api.get<OwnedSecret>(objectPath('v1', 'Secret', 'keys-gen', name));
      expect(secret?.metadata.ownerReferences, name).toEqual([
        expect.objectContaining({ kind: 'MCPGatewayExtension', name: 'ext', uid: ext?.metadata.uid, controller: true }),
      ]);
    }
    firstPublic = publicText ?? '';
  });

  it('reaches the gateway as TRUSTED_HEADER_PUBLIC_KEY from the Secret, with the key’s fingerprint on the pods', async () => {
    const deployment = await waitFor(
      'the gateway Deployment',
      () => deploymentOf('keys-gen'),
      (d) => d !== undefined,
    );
    expect(deployment?.spec.template.spec.containers[0]?.env).toContainEqual({
      name: 'TRUSTED_HEADER_PUBLIC_KEY',
      valueFrom: { secretKeyRef: { name: 'trusted-key', key: 'key' } },
    });
    expect(await annotationOf('keys-gen')).toBe(fingerprint(firstPublic));
    const config = parse((await configText(cluster.api, 'keys-gen')) ?? '') as Record<string, unknown>;
    expect(config['auth']).toEqual({ trustedHeaders: { enforceCapabilityFiltering: true } });
    await markDeploymentReady(cluster.api, 'keys-gen');
    await waitReason(cluster.api, 'MCPGatewayExtension', 'keys-gen', 'ext', 'ValidMCPGatewayExtension');
  });

  it('is made anew when its private half is deleted, and the pods roll to the new key', async () => {
    await cluster.api.delete(objectPath('v1', 'Secret', 'keys-gen', 'trusted-key-private'));
    const renewed = await waitFor(
      'a new public key',
      () => secretText(cluster.api, 'keys-gen', 'trusted-key', 'key'),
      (text) => text !== undefined && text !== firstPublic,
    );
    const privateText = await waitFor(
      'a new private key',
      () => secretText(cluster.api, 'keys-gen', 'trusted-key-private', 'key'),
      (text) => text !== undefined,
    );
    expect(createPublicKey(createPrivateKey(privateText ?? '')).export({ type: 'spki', format: 'pem' })).toBe(renewed);
    await waitFor(
      'the new fingerprint on the pod template',
      () => annotationOf('keys-gen'),
      (value) => value === fingerprint(renewed ?? ''),
    );
  });

  it('is made anew when its public half is replaced by a key from another pair', async () => {
    const before = await secretText(cluster.api, 'keys-gen', 'trusted-key-private', 'key');
    const foreign = publicPem('prime256v1');
    await cluster.api.mergePatch(objectPath('v1', 'Secret', 'keys-gen', 'trusted-key'), {
      data: { key: Buffer.from(foreign).toString('base64') },
    });
    const privateText = await waitFor(
      'a new private key',
      () => secretText(cluster.api, 'keys-gen', 'trusted-key-private', 'key'),
      (text) => text !== undefined && text !== before,
    );
    const publicText = await waitFor(
      'its public key',
      () => secretText(cluster.api, 'keys-gen', 'trusted-key', 'key'),
      (text) =>
        text !== undefined &&
        text === createPublicKey(createPrivateKey(privateText ?? '')).export({ type: 'spki', format: 'pem' }),
    );
    expect(publicText).not.toBe(foreign);
  });
});

describe('a trusted-header key the user brings', () => {
  it('is required: without its Secret the extension is not Ready and no gateway is deployed', async () => {
    await cluster.apply(extension('keys-byo', 'ext', target('byo'), { trustedHeadersKey: { secretName: 'byo-key' } }));
    const condition = await waitReason(cluster.api, 'MCPGatewayExtension', 'keys-byo', 'ext', 'SecretNotFound');
    expect(condition).toMatchObject({ status: 'False' });
    expect(condition?.message).toContain('trustedHeadersKey: Secret keys-byo/byo-key not found');
    expect(await deploymentOf('keys-byo')).toBeUndefined();
  });

  it('must be a P-256 public key: another curve or a private key is SecretInvalid, its content never quoted', async () => {
    const p384 = publicPem('secp384r1');
    await cluster.apply(userSecret('keys-byo', 'byo-key', p384));
    const curve = await waitReason(cluster.api, 'MCPGatewayExtension', 'keys-byo', 'ext', 'SecretInvalid');
    expect(curve?.message).toBe(
      'trustedHeadersKey: data key "key" of Secret keys-byo/byo-key is an EC key on curve secp384r1, not P-256',
    );
    const privatePem = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
      .privateKey.export({ type: 'sec1', format: 'pem' })
      .toString();
    await cluster.apply(userSecret('keys-byo', 'byo-key', privatePem));
    const leaked = await waitFor(
      'the private key refused',
      () =>
        cluster.api.get<KubeObject & { status?: { conditions?: Array<{ message: string }> } }>(
          objectPath('mcp.kuadrant.io/v1', 'MCPGatewayExtension', 'keys-byo', 'ext'),
        ),
      (ext) => ext?.status?.conditions?.[0]?.message.includes('holds a private key') === true,
    );
    const message = leaked?.status?.conditions?.[0]?.message ?? '';
    expect(message).not.toContain('BEGIN');
    expect(message).not.toContain(privatePem.split('\n')[1]?.slice(0, 16));
    expect(await deploymentOf('keys-byo')).toBeUndefined();
  });

  it('once valid, deploys the gateway reading it, and a rotated key rolls the pods', async () => {
    const first = publicPem('prime256v1');
    await cluster.apply(userSecret('keys-byo', 'byo-key', first));
    await waitFor(
      'the gateway Deployment with the key’s fingerprint',
      () => annotationOf('keys-byo'),
      (value) => value === fingerprint(first),
    );
    expect((await deploymentOf('keys-byo'))?.spec.template.spec.containers[0]?.env).toContainEqual({
      name: 'TRUSTED_HEADER_PUBLIC_KEY',
      valueFrom: { secretKeyRef: { name: 'byo-key', key: 'key' } },
    });
    await markDeploymentReady(cluster.api, 'keys-byo');
    await waitReason(cluster.api, 'MCPGatewayExtension', 'keys-byo', 'ext', 'ValidMCPGatewayExtension');
    const rotated = publicPem('prime256v1');
    await cluster.apply(userSecret('keys-byo', 'byo-key', rotated));
    await waitFor(
      'the rotated key’s fingerprint',
      () => annotationOf('keys-byo'),
      (value) => value === fingerprint(rotated),
    );
  });
});
