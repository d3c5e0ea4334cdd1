import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { renderChart } from './helm.ts';

const TINY_CHART = fileURLToPath(new URL('./fixtures/tiny-chart', import.meta.url));

describe('renderChart', () => {
  it("renders a chart with its default values into the release's namespace", async () => {
    const { manifests, raw } = await renderChart(TINY_CHART, { releaseName: 'demo', namespace: 'mcp-system' });
    expect(raw).toContain('# Source: tiny/templates/configmap.yaml');
    expect(manifests).toEqual([
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'demo-tiny', namespace: 'mcp-system' },
        data: { greeting: 'hello', replicas: '1' },
      },
    ]);
  });

  it('merges the given values over the chart defaults', async () => {
    const { manifests } = await renderChart(TINY_CHART, { values: { replicas: 3, service: { enabled: true } } });
    expect(manifests.map((m) => (m as { kind: string }).kind).sort()).toEqual(['ConfigMap', 'Service']);
    expect(manifests).toContainEqual(
      expect.objectContaining({ kind: 'ConfigMap', data: { greeting: 'hello', replicas: '3' } }),
    );
    expect(manifests).toContainEqual(
      expect.objectContaining({ kind: 'Service', metadata: { name: 'test-tiny', namespace: 'default' } }),
    );
  });

  it("fails with helm's message when a required value is missing", async () => {
    await expect(renderChart(TINY_CHART, { values: { greeting: null } })).rejects.toThrow(/greeting is required/);
  });
});
