/**
 * Discovery for large catalogs (the anchor's `--discovery-tools-enabled` and
 * `--discovery-tool-threshold`): whether the gateway offers its meta-tools, and above how many
 * tools a session that selected none sees only them.
 */
export interface DiscoverySettings {
  /** The meta-tools and the `instructions` text are offered (default true). */
  readonly enabled: boolean;
  /** Above this many visible tools, an unscoped session lists only the meta-tools; 0 = never (default). */
  readonly threshold: number;
}

export const DEFAULT_DISCOVERY: DiscoverySettings = Object.freeze({ enabled: true, threshold: 0 });
