import type * as k8s from '@kubernetes/client-node';
import type { Logger } from '@mcp-gateway/core';
import type { McpGatewayExtension } from '../model/api-types.ts';
import { privateKeySecretName } from '../model/trusted-headers-key.ts';
import type { KubeApi } from './kube-api.ts';
import { startWatch, type Watch } from './watches.ts';

/** Watches of the Secrets that extensions name in `spec.trustedHeadersKey`. */
export interface KeySecretWatches {
  /** Starts a watch for each Secret the extensions now name and stops those no longer named. */
  sync(extensions: readonly McpGatewayExtension[]): void;
  stop(): Promise<void>;
}

/** The `<namespace>/<name>` of every Secret the extensions' trusted-header keys live in. */
function keySecretNames(extensions: readonly McpGatewayExtension[]): Set<string> {
  const names = new Set<string>();
  for (const extension of extensions) {
    const key = extension.spec.trustedHeadersKey;
    if (key === undefined || extension.metadata.deletionTimestamp !== undefined) continue;
    const namespace = extension.metadata.namespace ?? '';
    names.add(`${namespace}/${key.secretName}`);
    if (key.generate === 'Enabled') names.add(`${namespace}/${privateKeySecretName(key.secretName)}`);
  }
  return names;
}

/**
 * One watch per named Secret (its namespace, `metadata.name=<name>`), so that a key put in place,
 * rotated or removed reconciles its extension at once. A bring-your-own key Secret need not carry
 * the label `mcp.kuadrant.io/secret=true` (the anchor does not ask for it), so the labelled Secret
 * watch may never see it, and watching every Secret of the cluster would cache them all.
 * @param onChange Called with the namespace and name of a Secret that was added, changed or deleted.
 */
export function createKeySecretWatches(
  kubeConfig: k8s.KubeConfig,
  api: KubeApi,
  logger: Logger,
  onChange: (namespace: string, name: string) => void,
): KeySecretWatches {
  const active = new Map<string, Watch>();
  return {
    sync(extensions) {
      const wanted = keySecretNames(extensions);
      for (const [key, watch] of active) {
        if (wanted.has(key)) continue;
        active.delete(key);
        void watch.stop().catch(() => undefined);
      }
      for (const key of wanted) {
        if (active.has(key)) continue;
        const [namespace = '', name = ''] = key.split('/');
        const resource = {
          field: 'secrets' as const,
          path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets`,
          fieldSelector: `metadata.name=${name}`,
        };
        active.set(
          key,
          startWatch(kubeConfig, api, resource, logger, () => onChange(namespace, name)),
        );
      }
    },
    async stop() {
      const watches = [...active.values()];
      active.clear();
      await Promise.all(watches.map((w) => w.stop()));
    },
  };
}
