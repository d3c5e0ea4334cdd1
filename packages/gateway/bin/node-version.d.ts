/** The oldest Node.js the gateway runs on, as MAJOR.MINOR (see node-version.js). */
export declare const MINIMUM_NODE_VERSION: string;

/** Result of {@link checkNodeVersion}. */
export type NodeVersionResult = { ok: true } | { ok: false; message: string };

/** Compares `found` (`process.versions.node`) with MINIMUM_NODE_VERSION (see node-version.js). */
export declare function checkNodeVersion(command: string, found: string): NodeVersionResult;

/** Exits with code 1 after one line on stderr when this Node is older than MINIMUM_NODE_VERSION. */
export declare function exitUnlessSupportedNode(command: string): void;
