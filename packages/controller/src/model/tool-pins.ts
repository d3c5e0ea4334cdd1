import type { McpServerRegistration } from './api-types.ts';
import { APPROVED_DIGESTS_ANNOTATION } from '../names.ts';

/** A server's `pinning` in the config file's spelling. */
export interface FilePinning {
  readonly onChange: 'serveApproved' | 'withhold';
  /** Approved digests of quarantined definitions, sorted, each once; absent when there are none. */
  readonly approve?: readonly string[];
  /** Approved digests by tool name from `status.toolPins.digests`, sorted by name; absent when none. */
  readonly pinned?: Readonly<Record<string, string>>;
}

/** The digests of an approval annotation: the well-formed ones and the entries that are not. */
export interface ApprovedDigests {
  /** `sha256:<64 lower-case hex>`, sorted, each once. */
  readonly digests: readonly string[];
  /** Entries that are not a digest, as written (at most the first 10). */
  readonly malformed: readonly string[];
  /** Well-formed digests left out beyond {@link MAX_APPROVED_DIGESTS}. */
  readonly dropped: number;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/i;
const MAX_MALFORMED_REPORTED = 10;
/** Most digests a server's `pinning.approve` may hold (the gateway's config bound). */
export const MAX_APPROVED_DIGESTS = 2000;

/**
 * Parses the approval annotation: entries separated by commas and/or whitespace, each
 * `sha256:<64 hex>` (hex case is ignored, written lower-case as the gateway computes it). An
 * entry of another form is reported and left out; the others are used, at most 2 000 (the
 * gateway refuses a config with more; the rest, in sorted order, are dropped and counted).
 */
export function parseApprovedDigests(value: string | undefined): ApprovedDigests {
  const digests = new Set<string>();
  const malformed: string[] = [];
  for (const entry of (value ?? '').split(/[\s,]+/)) {
    if (entry === '') continue;
    if (DIGEST.test(entry)) digests.add(entry.toLowerCase());
    else if (malformed.length < MAX_MALFORMED_REPORTED) malformed.push(entry);
  }
  const sorted = [...digests].sort();
  return {
    digests: sorted.slice(0, MAX_APPROVED_DIGESTS),
    malformed,
    dropped: Math.max(0, sorted.length - MAX_APPROVED_DIGESTS),
  };
}

/**
 * `status.toolPins.digests` as the config's `pinning.pinned`: the well-formed entries sorted by
 * tool name, at most MAX_APPROVED_DIGESTS (the gateway's bound); undefined when none. The status is
 * the controller's own writing, but it is checked again: a malformed entry would fail the config.
 */
function toFilePinned(digests: Readonly<Record<string, string>> | undefined): Record<string, string> | undefined {
  const entries = Object.entries(digests ?? {})
    .filter(([tool, digest]) => tool !== '' && typeof digest === 'string' && DIGEST.test(digest))
    .map(([tool, digest]): [string, string] => [tool, digest.toLowerCase()])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, MAX_APPROVED_DIGESTS);
  return entries.length === 0 ? undefined : Object.fromEntries(entries);
}

/** What a registration's pinning becomes: the config's `pinning` and remarks for its Ready condition. */
export interface PinningResult {
  readonly pinning?: FilePinning;
  /** Sentences about the approval annotation, for the Ready condition's message. */
  readonly remarks: readonly string[];
}

/**
 * A registration's `spec.pinning` and approval annotation as the config's `pinning` of its
 * server. Without `spec.pinning` the server is not pinned and the annotation is ignored (said in
 * a remark, since approvals alone would otherwise look effective); malformed entries are named.
 * @see docs/kubernetes.md
 */
export function toFilePinning(registration: McpServerRegistration): PinningResult {
  const annotation = registration.metadata.annotations?.[APPROVED_DIGESTS_ANNOTATION];
  const approved = parseApprovedDigests(annotation);
  const remarks: string[] = [];
  if (approved.malformed.length > 0) {
    const names = approved.malformed.map((entry) => `"${entry.slice(0, 80)}"`).join(', ');
    remarks.push(
      `annotation ${APPROVED_DIGESTS_ANNOTATION}: ignored ${names} (each entry must be sha256:<64 hex digits>)`,
    );
  }
  if (approved.dropped > 0) {
    remarks.push(
      `annotation ${APPROVED_DIGESTS_ANNOTATION}: ${approved.dropped} digests beyond ${MAX_APPROVED_DIGESTS} ignored (remove the approvals the gateway has applied)`,
    );
  }
  const spec = registration.spec.pinning;
  if (spec === undefined) {
    if (annotation !== undefined && annotation.trim() !== '') {
      remarks.push(`annotation ${APPROVED_DIGESTS_ANNOTATION} has no effect: spec.pinning is not set`);
    }
    return { remarks };
  }
  const pinned = toFilePinned(registration.status?.toolPins?.digests);
  const pinning: FilePinning = {
    onChange: spec.onChange ?? 'serveApproved',
    ...(approved.digests.length > 0 ? { approve: approved.digests } : {}),
    ...(pinned !== undefined ? { pinned } : {}),
  };
  return { pinning, remarks };
}
