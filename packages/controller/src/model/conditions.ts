import type { Condition } from './api-types.ts';

/** A condition's content before it is stamped with times and generation. */
export interface ConditionInput {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
}

/**
 * The conditions list with `next` set, per Kubernetes conventions: `lastTransitionTime` is kept
 * when the status does not change, `observedGeneration` records the generation it describes.
 * Other condition types are kept as they are.
 */
export function setCondition(
  current: readonly Condition[] | undefined,
  next: ConditionInput,
  generation: number | undefined,
  now: Date,
): Condition[] {
  const list = current ?? [];
  const previous = list.find((c) => c.type === next.type);
  const lastTransitionTime =
    previous !== undefined && previous.status === next.status ? previous.lastTransitionTime : now.toISOString();
  const condition: Condition = {
    ...next,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    lastTransitionTime,
  };
  return [...list.filter((c) => c.type !== next.type), condition];
}

/** True when `current` already says what `next` says for `generation` (no status write needed). */
export function conditionHolds(
  current: readonly Condition[] | undefined,
  next: ConditionInput,
  generation: number | undefined,
): boolean {
  const found = current?.find((c) => c.type === next.type);
  return (
    found !== undefined &&
    found.status === next.status &&
    found.reason === next.reason &&
    found.message === next.message &&
    found.observedGeneration === generation
  );
}
