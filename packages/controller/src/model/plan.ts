import { parseConfig } from '@mcp-gateway/core';
import { toConfigProblem, type ConfigProblem } from './access-config.ts';
import type { McpGatewayExtensionSpec } from './api-types.ts';
import { indexState, type ClusterState, type StateIndex } from './cluster-state.ts';
import { buildConfigs, toConfigYaml, type ConfigOptions, type DesiredConfig } from './config-builder.ts';
import { validateExtensions, type ExtensionVerdict } from './extension-validation.ts';
import { resolveRegistrations, type RegistrationVerdict } from './registrations.ts';
import { placeVirtualServers, type VirtualServerVerdict } from './virtual-servers.ts';

/** What the cluster should look like, computed from what the watches saw. */
export interface ClusterPlan {
  readonly index: StateIndex;
  /** Verdict per extension `<namespace>/<name>` (extensions being deleted are absent). */
  readonly extensions: ReadonlyMap<string, ExtensionVerdict>;
  /** Verdict per registration `<namespace>/<name>`. */
  readonly registrations: ReadonlyMap<string, RegistrationVerdict>;
  /** Verdict per virtual server `<namespace>/<name>` (those being deleted are absent). */
  readonly virtualServers: ReadonlyMap<string, VirtualServerVerdict>;
  /** The config per namespace that should have a config Secret. */
  readonly configs: ReadonlyMap<string, DesiredConfig>;
  /**
   * Per HTTPRoute `<namespace>/<name>` targeted by a registration in a config, the Gateways
   * `<namespace>/<name>` whose status parent entry gets the `Programmed` condition.
   */
  readonly routesInUse: ReadonlyMap<string, ReadonlySet<string>>;
  /**
   * The config file (`config.yaml`) of a namespace, rendered and checked once per plan on first
   * use; undefined when the namespace needs none or its config does not pass the gateway's checks.
   */
  configYaml(namespace: string): string | undefined;
  /** Why the namespace's config is not written (the extension's Ready condition says it), if so. */
  configProblem(namespace: string): ConfigProblem | undefined;
}

/** The name config issues are reported under before they are renamed to spec fields. */
const CHECK_SOURCE = 'config.yaml';

/**
 * The desired state of everything the controller manages: pure, deterministic and cheap
 * enough to recompute after every change (one pass over the objects).
 */
export function planCluster(state: ClusterState, options: ConfigOptions = {}): ClusterPlan {
  const index = indexState(state);
  const extensions = validateExtensions(index);
  const resolution = resolveRegistrations(index, extensions);
  const placement = placeVirtualServers(index, extensions, resolution);
  const configs = buildConfigs(index, extensions, resolution, placement, options);
  const rendered = new Map<string, { yaml?: string; problem?: ConfigProblem }>();
  const routesInUse = new Map<string, Set<string>>();
  for (const verdict of resolution.verdicts.values()) {
    if (verdict.gateways.length === 0) continue;
    const route = `${verdict.registration.metadata.namespace}/${verdict.registration.spec.targetRef.name}`;
    const set = routesInUse.get(route) ?? new Set<string>();
    for (const gateway of verdict.gateways) set.add(gateway);
    routesInUse.set(route, set);
  }
  const render = (namespace: string) => {
    const config = configs.get(namespace);
    if (config === undefined) return undefined;
    let result = rendered.get(namespace);
    if (result === undefined) {
      const extension = [...extensions.values()].find((v) => v.valid && v.extension.metadata.namespace === namespace);
      const problem = extension === undefined ? undefined : checkConfig(config, extension.extension.spec);
      result = problem === undefined ? { yaml: toConfigYaml(config) } : { problem };
      rendered.set(namespace, result);
    }
    return result;
  };
  return {
    index,
    extensions,
    registrations: resolution.verdicts,
    virtualServers: placement.verdicts,
    configs,
    routesInUse,
    configYaml: (namespace) => render(namespace)?.yaml,
    configProblem: (namespace) => render(namespace)?.problem,
  };
}

/**
 * Checks a config with the gateway's own parser before it is written, so that a config the
 * gateway would refuse is never written (the gateway keeps its last good one) and the extension
 * says why. The server entries are left out of the check: the controller builds them itself from
 * registrations the API server validated, and parsing a thousand of them would cost tens of
 * milliseconds on every write; everything an extension writes (the access sections) is checked.
 */
function checkConfig(config: DesiredConfig, spec: McpGatewayExtensionSpec): ConfigProblem | undefined {
  const parsed = parseConfig(toConfigYaml({ ...config, servers: [] }), CHECK_SOURCE);
  return parsed.ok ? undefined : toConfigProblem(spec, parsed.error.message, CHECK_SOURCE);
}
