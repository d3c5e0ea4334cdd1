import type { QuotaSpec } from './api-types.ts';

/**
 * A registration's `spec.quotas` as the config file's `quotas` of its server: each entry with
 * only the four fields the file knows, in a fixed order, values as written (the API server has
 * already bounded every field and refused what the gateway would refuse on its own: a quota that
 * limits nothing, `windowSeconds` without `requests`, two quotas without `tools`, a tool named
 * twice). No default is filled in: the gateway's `windowSeconds` of 60 applies when it is absent.
 * @see docs/configuration.md
 */
export function toFileQuotas(quotas: readonly QuotaSpec[] | undefined): QuotaSpec[] {
  return (quotas ?? []).map((quota) => ({
    ...(quota.tools !== undefined ? { tools: quota.tools } : {}),
    ...(quota.requests !== undefined ? { requests: quota.requests } : {}),
    ...(quota.windowSeconds !== undefined ? { windowSeconds: quota.windowSeconds } : {}),
    ...(quota.concurrentCalls !== undefined ? { concurrentCalls: quota.concurrentCalls } : {}),
  }));
}
