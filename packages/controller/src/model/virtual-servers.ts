import type { VirtualServerConfig } from '@mcp-gateway/core';
import type { McpVirtualServer } from './api-types.ts';
import { keyOf } from './api-types.ts';
import { byAge, type StateIndex } from './cluster-state.ts';
import type { ConditionInput } from './conditions.ts';
import type { ExtensionVerdict } from './extension-validation.ts';
import type { RegistrationResolution } from './registrations.ts';
import { READY } from '../names.ts';

/** Reasons of a virtual server's Ready condition. */
export const VIRTUAL_SERVER_REASONS = { ready: 'Ready', notReady: 'NotReady' } as const;

/** What the controller makes of one virtual server: the configs that carry it and its condition. */
export interface VirtualServerVerdict {
  readonly virtualServer: McpVirtualServer;
  readonly condition: ConditionInput;
  /** Extension namespaces whose config holds it. */
  readonly namespaces: readonly string[];
}

export interface VirtualServerPlacement {
  /** Verdict per virtual server `<namespace>/<name>`. */
  readonly verdicts: ReadonlyMap<string, VirtualServerVerdict>;
  /** The virtual servers of each config namespace, oldest first. */
  readonly byNamespace: ReadonlyMap<string, readonly VirtualServerConfig[]>;
}

/**
 * Places each virtual server into the configs of the gateways it belongs to (the anchor writes
 * every one into every config, so one team's views appear in every other team's gateway):
 * 1. the extension in its own namespace, when there is one (an invalid one carries none);
 * 2. else the extensions whose configs hold a registration from its namespace;
 * 3. else every valid extension (the anchor's rule, for a view kept in a namespace of its own).
 */
export function placeVirtualServers(
  index: StateIndex,
  extensions: ReadonlyMap<string, ExtensionVerdict>,
  resolution: RegistrationResolution,
): VirtualServerPlacement {
  const verdicts = new Map<string, VirtualServerVerdict>();
  const byNamespace = new Map<string, VirtualServerConfig[]>();
  const extensionByNamespace = new Map<string, ExtensionVerdict>();
  for (const verdict of extensions.values()) {
    const namespace = verdict.extension.metadata.namespace ?? '';
    if (verdict.valid || !extensionByNamespace.has(namespace)) extensionByNamespace.set(namespace, verdict);
  }
  const validNamespaces = [...extensionByNamespace.entries()].filter(([, v]) => v.valid).map(([ns]) => ns);
  const live = index.state.virtualServers.filter((vs) => vs.metadata.deletionTimestamp === undefined).sort(byAge);
  for (const virtualServer of live) {
    const placement = place(virtualServer, extensionByNamespace, resolution, validNamespaces);
    const entry: VirtualServerConfig = {
      name: keyOf(virtualServer),
      tools: virtualServer.spec.tools,
      ...(virtualServer.spec.prompts !== undefined && virtualServer.spec.prompts.length > 0
        ? { prompts: virtualServer.spec.prompts }
        : {}),
    };
    for (const namespace of placement.namespaces) {
      const list = byNamespace.get(namespace) ?? [];
      list.push(entry);
      byNamespace.set(namespace, list);
    }
    verdicts.set(keyOf(virtualServer), { virtualServer, ...placement });
  }
  return { verdicts, byNamespace };
}

const condition = (status: 'True' | 'False', reason: string, message: string): ConditionInput => ({
  type: READY,
  status,
  reason,
  message,
});

function place(
  virtualServer: McpVirtualServer,
  extensionByNamespace: ReadonlyMap<string, ExtensionVerdict>,
  resolution: RegistrationResolution,
  validNamespaces: readonly string[],
): { condition: ConditionInput; namespaces: string[] } {
  const namespace = virtualServer.metadata.namespace ?? '';
  const written = (namespaces: string[], why: string) => ({
    namespaces,
    condition: condition(
      'True',
      VIRTUAL_SERVER_REASONS.ready,
      `in the config of the gateway in namespace ${namespaces.join(', ')} (${why})`,
    ),
  });
  const own = extensionByNamespace.get(namespace);
  if (own?.valid === true) return written([namespace], 'the extension of its own namespace');
  if (own !== undefined) {
    return {
      namespaces: [],
      condition: condition(
        'False',
        VIRTUAL_SERVER_REASONS.notReady,
        `MCPGatewayExtension ${keyOf(own.extension)} of its namespace is not valid (${own.reason}); see its Ready condition`,
      ),
    };
  }
  const serving = new Set<string>();
  for (const verdict of resolution.verdicts.values()) {
    if (verdict.registration.metadata.namespace === namespace) verdict.namespaces.forEach((ns) => serving.add(ns));
  }
  if (serving.size > 0) return written([...serving].sort(), `the gateways serving registrations of ${namespace}`);
  if (validNamespaces.length > 0) {
    return written([...validNamespaces].sort(), `every gateway: no extension or served registration in ${namespace}`);
  }
  return {
    namespaces: [],
    condition: condition('False', VIRTUAL_SERVER_REASONS.notReady, 'no valid MCPGatewayExtension serves it'),
  };
}
