// The chart's monitoring and tracing values rendered by the real helm (helm template): the
// Prometheus Operator monitor of the gateways the controller deploys, the OTEL_* variables the
// controller puts on them (its --gateway-env flags), and the Grafana dashboard ConfigMap.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderChart } from '../harness/helm.ts';
import { DASHBOARD_PATH } from '../observability/dashboard-file.ts';
import { CHART_DIR } from './install-files.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- rendered YAML, checked by the assertions
type Manifest = { apiVersion: string; kind: string; metadata: any; spec?: any; data?: any };

const render = async (values: object, namespace = 'team-a') =>
  (await renderChart(CHART_DIR, { releaseName: 'mcp', namespace, values })).manifests as Manifest[];
const ofKind = (manifests: Manifest[], kind: string) => manifests.filter((m) => m.kind === kind);
const controllerArgs = (manifests: Manifest[]): string[] =>
  ofKind(manifests, 'Deployment')[0]?.spec.template.spec.containers[0].args;

describe('monitoring and tracing values', () => {
  it('renders no monitor, no dashboard and no OTEL_* flag by default', async () => {
    const manifests = await render({});
    expect(manifests.filter((m) => m.apiVersion.startsWith('monitoring.coreos.com'))).toEqual([]);
    expect(ofKind(manifests, 'ConfigMap')).toEqual([]);
    expect(controllerArgs(manifests).filter((arg) => arg.startsWith('--gateway-env'))).toEqual([]);
  });

  it("renders a ServiceMonitor of the gateway Services' http port in the release namespace", async () => {
    const manifests = await render({ monitoring: { enabled: true, labels: { release: 'kube-prometheus' } } });
    const [monitor, ...others] = ofKind(manifests, 'ServiceMonitor');
    expect(others).toEqual([]);
    expect(monitor?.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(monitor?.metadata).toMatchObject({ name: 'mcp-mcp-gateway', namespace: 'team-a' });
    expect(monitor?.metadata.labels).toMatchObject({ release: 'kube-prometheus', 'app.kubernetes.io/instance': 'mcp' });
    expect(monitor?.spec).toEqual({
      selector: {
        matchLabels: {
          'app.kubernetes.io/name': 'mcp-gateway',
          'app.kubernetes.io/managed-by': 'mcp-gateway-controller',
        },
      },
      namespaceSelector: { matchNames: ['team-a'] },
      endpoints: [{ port: 'http', path: '/metrics', interval: '30s' }],
    });
  });

  it('renders a PodMonitor with the given interval, timeout, port, path and namespaces', async () => {
    const manifests = await render({
      monitoring: {
        enabled: true,
        kind: 'PodMonitor',
        interval: '15s',
        scrapeTimeout: '5s',
        port: 'metrics',
        path: '/custom-metrics',
        namespaces: ['team-a', 'team-b'],
      },
    });
    expect(ofKind(manifests, 'ServiceMonitor')).toEqual([]);
    const [monitor] = ofKind(manifests, 'PodMonitor');
    expect(monitor?.spec.namespaceSelector).toEqual({ matchNames: ['team-a', 'team-b'] });
    expect(monitor?.spec.podMetricsEndpoints).toEqual([
      { port: 'metrics', path: '/custom-metrics', interval: '15s', scrapeTimeout: '5s' },
    ]);
  });

  it('refuses a monitor kind other than ServiceMonitor and PodMonitor', async () => {
    await expect(render({ monitoring: { enabled: true, kind: 'Probe' } })).rejects.toThrow(
      /monitoring.kind must be ServiceMonitor or PodMonitor/,
    );
  });

  it('passes the otel values to the controller as the OTEL_* variables of every gateway', async () => {
    const manifests = await render({
      otel: {
        endpoint: 'http://otel-collector.observability:4318',
        protocol: 'http/protobuf',
        serviceName: 'mcp-gateway-team-a',
        resourceAttributes: { 'deployment.environment.name': 'prod', 'team.name': 'a' },
      },
    });
    expect(controllerArgs(manifests).filter((arg) => arg.startsWith('--gateway-env'))).toEqual([
      '--gateway-env=OTEL_EXPORTER_OTLP_ENDPOINT=http://otel-collector.observability:4318',
      '--gateway-env=OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf',
      '--gateway-env=OTEL_SERVICE_NAME=mcp-gateway-team-a',
      '--gateway-env=OTEL_RESOURCE_ATTRIBUTES=deployment.environment.name=prod,team.name=a',
    ]);
  });

  it('refuses an OTLP protocol other than grpc and http/protobuf, and a resource attribute holding a comma', async () => {
    await expect(render({ otel: { endpoint: 'http://otel:4317', protocol: 'http/json' } })).rejects.toThrow(
      /otel.protocol must be grpc or http\/protobuf/,
    );
    await expect(
      render({ otel: { endpoint: 'http://otel:4317', resourceAttributes: { team: 'a,b' } } }),
    ).rejects.toThrow(/otel.resourceAttributes.team/);
  });

  it('renders the dashboard in a ConfigMap labelled for the Grafana sidecar, in the namespace given', async () => {
    const manifests = await render({
      monitoring: { dashboard: { enabled: true, namespace: 'grafana', annotations: { grafana_folder: 'MCP' } } },
    });
    const [configMap] = ofKind(manifests, 'ConfigMap');
    expect(configMap?.metadata).toMatchObject({
      name: 'mcp-mcp-gateway-dashboard',
      namespace: 'grafana',
      labels: { grafana_dashboard: '1' },
      annotations: { grafana_folder: 'MCP' },
    });
    expect(JSON.parse(configMap?.data['mcp-gateway.json'])).toEqual(JSON.parse(readFileSync(DASHBOARD_PATH, 'utf8')));
  });

  it("holds a byte-identical copy of infra/grafana's dashboard (node infra/helm/sync-dashboard.mjs copies it)", () => {
    expect(readFileSync(`${CHART_DIR}dashboards/mcp-gateway.json`, 'utf8')).toBe(readFileSync(DASHBOARD_PATH, 'utf8'));
  });
});
