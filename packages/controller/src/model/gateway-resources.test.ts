import { describe, expect, it } from 'vitest';
import { indexState } from './cluster-state.ts';
import { validateExtensions, type ValidExtension } from './extension-validation.ts';
import { gatewayArgs, gatewayDeployment, gatewayEnvoyFilter } from './gateway-resources.ts';
import { extension, gateway, listener, secret, state } from './test-objects.ts';
import type { Deployment } from './api-types.ts';

function valid(spec = {}, protocol = 'HTTP'): ValidExtension {
  const gw = gateway('gateway-system', 'mcp-gateway', [listener('web', 8443, '*.example.com', { protocol })]);
  const ext = extension('gateway-system', 'ext', { name: 'mcp-gateway', sectionName: 'web' }, spec);
  const secrets = [
    secret('gateway-system', 'redis', { CACHE_CONNECTION_STRING: 'redis://r:6379' }),
    {
      ...secret('gateway-system', 'credential-keys', { keys: `${'n'.repeat(32)},${'o'.repeat(32)}` }),
      metadata: { namespace: 'gateway-system', name: 'credential-keys', resourceVersion: '4711' },
    },
  ];
  const verdict = validateExtensions(indexState(state({ gateways: [gw], extensions: [ext], secrets }))).get(
    'gateway-system/ext',
  );
  if (!verdict?.valid) throw new Error('fixture extension is not valid');
  return verdict;
}
const options = { image: 'example/mcp-gateway:1' };

describe('gateway resources', () => {
  it('derives the gateway flags from the listener and runs the router in the same process', () => {
    expect(gatewayArgs(valid({ backendPingIntervalSeconds: 30, logLevel: 'debug' }, 'HTTPS'), options)).toEqual([
      '--mcp-broker-public-address=0.0.0.0:8080',
      '--mcp-router-address=0.0.0.0:50051',
      '--mcp-gateway-private-host=https://mcp-gateway-istio.gateway-system.svc.cluster.local:8443',
      '--mcp-gateway-public-host=mcp.example.com',
      '--mcp-gateway-config=/config/config.yaml',
      '--mcp-check-interval=30',
      '--log-level=debug',
    ]);
  });

  it("passes the chart's discovery settings to every gateway, and leaves the defaults unsaid", () => {
    const off = gatewayArgs(valid(), { ...options, toolDiscovery: { enabled: false, threshold: 40 } });
    expect(off.slice(-2)).toEqual(['--discovery-tools-enabled=false', '--discovery-tool-threshold=40']);
    const defaults = gatewayArgs(valid(), { ...options, toolDiscovery: { enabled: true, threshold: 0 } });
    expect(defaults.filter((arg) => arg.startsWith('--discovery'))).toEqual([]);
    const current: Deployment = {
      metadata: { name: 'mcp-gateway', namespace: 'gateway-system' },
      spec: { template: { spec: { containers: [{ name: 'mcp-gateway', args: off }] } } },
    };
    // Turned back on: the managed flags go, they are not kept as a user's.
    expect(gatewayArgs(valid(), options, current).filter((arg) => arg.startsWith('--discovery'))).toEqual([]);
  });

  it('keeps flags a user added to the Deployment and replaces the managed ones', () => {
    const current: Deployment = {
      metadata: { name: 'mcp-gateway', namespace: 'gateway-system' },
      spec: {
        template: {
          spec: {
            containers: [
              {
                name: 'mcp-gateway',
                args: [
                  '--mcp-gateway-public-host',
                  'old.example.com',
                  '--upstream-timeout=60',
                  '--allowed-origins',
                  '*',
                ],
              },
            ],
          },
        },
      },
    };
    const args = gatewayArgs(valid(), options, current);
    expect(args).toContain('--mcp-gateway-public-host=mcp.example.com');
    expect(args).not.toContain('old.example.com');
    expect(args.slice(-3)).toEqual(['--upstream-timeout=60', '--allowed-origins', '*']);
  });

  it('mounts the config Secret as a directory and takes Redis from the session store Secret', () => {
    const deployment = gatewayDeployment(valid({ sessionStore: { secretName: 'redis' } }), options) as unknown as {
      spec: {
        template: { spec: { containers: Array<{ env: unknown[]; volumeMounts: unknown[] }>; volumes: unknown[] } };
      };
    };
    const pod = deployment.spec.template.spec;
    expect(pod.containers[0]?.volumeMounts).toEqual([
      { name: 'config-volume', mountPath: '/config', readOnly: true },
      { name: 'tmp', mountPath: '/tmp' },
    ]);
    expect(pod.volumes).toEqual([
      { name: 'config-volume', secret: { secretName: 'mcp-gateway-config', defaultMode: 0o644 } },
      { name: 'tmp', emptyDir: {} },
    ]);
    expect(pod.containers[0]?.env).toContainEqual({
      name: 'CACHE_CONNECTION_STRING',
      valueFrom: { secretKeyRef: { name: 'redis', key: 'CACHE_CONNECTION_STRING' } },
    });
    expect(deployment).not.toHaveProperty('spec.replicas');
  });

  it('adds the --gateway-env variables after the ones the extension sets', () => {
    type Built = { spec: { template: { spec: { containers: { env: { name: string }[] }[] } } } };
    const extraEnv = [
      { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: 'http://otel-collector:4317' },
      { name: 'OTEL_SERVICE_NAME', value: 'mcp-gateway' },
    ];
    const deployment = gatewayDeployment(valid({ sessionStore: { secretName: 'redis' } }), {
      ...options,
      extraEnv,
    }) as unknown as Built;
    const env = deployment.spec.template.spec.containers[0]?.env ?? [];
    expect(env.map((e) => e.name)).toEqual([
      'GATEWAY_SIGNING_KEY',
      'CACHE_CONNECTION_STRING',
      'OTEL_EXPORTER_OTLP_ENDPOINT',
      'OTEL_SERVICE_NAME',
    ]);
    expect(env.slice(-2)).toEqual(extraEnv);
  });

  it('takes the trusted-header key from its Secret and puts its fingerprint on the pod template', () => {
    type Built = {
      spec: {
        template: { metadata: { annotations?: Record<string, string> }; spec: { containers: { env: unknown[] }[] } };
      };
    };
    const withKey = gatewayDeployment(
      valid({ trustedHeadersKey: { secretName: 'trusted' } }),
      options,
      undefined,
      '0123456789abcdef',
    ) as unknown as Built;
    expect(withKey.spec.template.spec.containers[0]?.env).toContainEqual({
      name: 'TRUSTED_HEADER_PUBLIC_KEY',
      valueFrom: { secretKeyRef: { name: 'trusted', key: 'key' } },
    });
    expect(withKey.spec.template.metadata.annotations).toEqual({
      'mcp.kuadrant.io/trusted-headers-key': '0123456789abcdef',
    });
    const without = gatewayDeployment(valid(), options) as unknown as Built;
    expect(JSON.stringify(without)).not.toContain('TRUSTED_HEADER_PUBLIC_KEY');
    expect(without.spec.template.metadata.annotations).toBeUndefined();
  });

  it('passes --enable-url-elicitation while urlElicitation is Enabled, and drops it once Disabled', () => {
    const enabled = gatewayArgs(valid({ urlElicitation: 'Enabled' }), options);
    expect(enabled).toContain('--enable-url-elicitation');
    const current: Deployment = {
      metadata: { name: 'mcp-gateway', namespace: 'gateway-system' },
      spec: {
        template: { spec: { containers: [{ name: 'mcp-gateway', args: [...enabled, '--upstream-timeout=60'] }] } },
      },
    };
    // Turned off: the managed flag goes, it is not kept as a user's; the user's flag stays.
    const disabled = gatewayArgs(valid({ urlElicitation: 'Disabled' }), options, current);
    expect(disabled).not.toContain('--enable-url-elicitation');
    expect(disabled.at(-1)).toBe('--upstream-timeout=60');
    expect(gatewayArgs(valid(), options)).not.toContain('--enable-url-elicitation');
  });

  it("takes CREDENTIAL_ENCRYPTION_KEYS from the credentialEncryption Secret's key keys, its version on the pod template", () => {
    type Built = {
      spec: {
        template: { metadata: { annotations?: Record<string, string> }; spec: { containers: { env: unknown[] }[] } };
      };
    };
    const built = gatewayDeployment(
      valid({ credentialEncryption: { secretName: 'credential-keys' } }),
      options,
    ) as unknown as Built;
    expect(built.spec.template.spec.containers[0]?.env).toContainEqual({
      name: 'CREDENTIAL_ENCRYPTION_KEYS',
      valueFrom: { secretKeyRef: { name: 'credential-keys', key: 'keys' } },
    });
    // The Secret's version, never the keys or a digest of them.
    expect(built.spec.template.metadata.annotations).toEqual({ 'mcp.kuadrant.io/credential-encryption-keys': '4711' });
    expect(JSON.stringify(built)).not.toContain('n'.repeat(32));
    const without = gatewayDeployment(valid(), options);
    expect(JSON.stringify(without)).not.toContain('CREDENTIAL_ENCRYPTION_KEYS');
  });

  it('builds the EnvoyFilter for the listener port, fail-closed with buffered request bodies', () => {
    const filter = gatewayEnvoyFilter(valid()) as unknown as {
      metadata: { name: string; namespace: string };
      spec: {
        configPatches: Array<{
          match: { listener: { portNumber: number } };
          patch: { operation: string; value: { typed_config: Record<string, unknown> } };
        }>;
      };
    };
    expect(filter.metadata).toMatchObject({ name: 'mcp-ext-proc-gateway-system-gateway', namespace: 'gateway-system' });
    const [patch] = filter.spec.configPatches;
    expect(patch?.match.listener.portNumber).toBe(8443);
    expect(patch?.patch.operation).toBe('INSERT_FIRST');
    expect(patch?.patch.value.typed_config).toMatchObject({
      failure_mode_allow: false,
      allow_mode_override: true,
      processing_mode: { request_body_mode: 'BUFFERED' },
      grpc_service: { envoy_grpc: { cluster_name: 'outbound|50051||mcp-gateway.gateway-system.svc.cluster.local' } },
    });
  });
});
