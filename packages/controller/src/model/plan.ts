import type { GatewayConfig } from '@mcp-gateway/core';
import { indexState, type ClusterState, type StateIndex } from './cluster-state.ts';
import { buildConfigs, toConfigYaml } from './config-builder.ts';
import { validateExtensions, type ExtensionVerdict } from './extension-validation.ts';
import { resolveRegistrations, type RegistrationVerdict } from './registrations.ts';

/** What the cluster should look like, computed from what the watches saw. */
export interface ClusterPlan {
  readonly index: StateIndex;
  /** Verdict per extension `<namespace>/<name>` (extensions being deleted are absent). */
  readonly extensions: ReadonlyMap<string, ExtensionVerdict>;
  /** Verdict per registration `<namespace>/<name>`. */
  readonly registrations: ReadonlyMap<string, RegistrationVerdict>;
  /** The config per namespace that should have a config Secret. */
  readonly configs: ReadonlyMap<string, GatewayConfig>;
  /**
   * Per HTTPRoute `<namespace>/<name>` targeted by a registration in a config, the Gateways
   * `<namespace>/<name>` whose status parent entry gets the `Programmed` condition.
   */
  readonly routesInUse: ReadonlyMap<string, ReadonlySet<string>>;
  /** The config file (`config.yaml`) of a namespace, rendered once per plan on first use. */
  configYaml(namespace: string): string | undefined;
}

/**
 * The desired state of everything the controller manages: pure, deterministic and cheap
 * enough to recompute after every change (one pass over the objects).
 */
export function planCluster(state: ClusterState): ClusterPlan {
  const index = indexState(state);
  const extensions = validateExtensions(index);
  const resolution = resolveRegistrations(index, extensions);
  const configs = buildConfigs(index, extensions, resolution);
  const rendered = new Map<string, string>();
  const routesInUse = new Map<string, Set<string>>();
  for (const verdict of resolution.verdicts.values()) {
    if (verdict.gateways.length === 0) continue;
    const route = `${verdict.registration.metadata.namespace}/${verdict.registration.spec.targetRef.name}`;
    const set = routesInUse.get(route) ?? new Set<string>();
    for (const gateway of verdict.gateways) set.add(gateway);
    routesInUse.set(route, set);
  }
  return {
    index,
    extensions,
    registrations: resolution.verdicts,
    configs,
    routesInUse,
    configYaml(namespace) {
      const config = configs.get(namespace);
      if (config === undefined) return undefined;
      let yaml = rendered.get(namespace);
      if (yaml === undefined) {
        yaml = toConfigYaml(config);
        rendered.set(namespace, yaml);
      }
      return yaml;
    },
  };
}
