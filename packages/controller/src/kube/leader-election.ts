import type { Logger } from '@mcp-gateway/core';
import type { KubeObject } from '../model/api-types.ts';
import { KubeApiError, objectPath, type KubeApi } from './kube-api.ts';

/** Options of leader election on a coordination.k8s.io/v1 Lease. */
export interface LeaderElectionOptions {
  readonly api: KubeApi;
  readonly logger: Logger;
  readonly namespace: string;
  /** Lease name. Default `mcp-gateway-controller`. */
  readonly name?: string;
  /** This replica's identity (holderIdentity). */
  readonly identity: string;
  /** How long a lease holds without renewal. Default 15 s. */
  readonly leaseDurationMs?: number;
  /** How long the leader keeps trying to renew before it gives up leading. Default 10 s. */
  readonly renewDeadlineMs?: number;
  /** Interval between attempts. Default 2 s. */
  readonly retryPeriodMs?: number;
  readonly onStartedLeading: () => void;
  readonly onStoppedLeading: () => void;
}

/** A running election. */
export interface LeaderElection {
  readonly isLeader: boolean;
  /** Stops campaigning; a leader releases the lease so another replica takes over at once. */
  stop(): Promise<void>;
}

interface Lease extends KubeObject {
  spec?: {
    holderIdentity?: string | null;
    leaseDurationSeconds?: number;
    acquireTime?: string | null;
    renewTime?: string | null;
    leaseTransitions?: number;
  };
}

export const DEFAULT_LEASE_NAME = 'mcp-gateway-controller';

/** MicroTime as the API server writes it (RFC 3339 with microseconds). */
function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/**
 * Campaigns for a Lease as client-go's leader election does: create it or take it over once
 * its holder has not renewed for the lease duration (judged by this replica's own clock since
 * it last saw the record change, so clock skew between replicas does not matter), renew it
 * every retry period, and stop leading when renewal has failed for the renew deadline.
 * Updates use the Lease's resourceVersion, so two replicas never both win.
 */
export function startLeaderElection(options: LeaderElectionOptions): LeaderElection {
  const name = options.name ?? DEFAULT_LEASE_NAME;
  const leaseMs = options.leaseDurationMs ?? 15_000;
  const renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
  const retryMs = options.retryPeriodMs ?? 2_000;
  const path = objectPath('coordination.k8s.io/v1', 'Lease', options.namespace, name);
  let leader = false;
  let stopped = false;
  let lastRenew = 0;
  let observed = '';
  let observedAt = 0;
  let timer: NodeJS.Timeout | undefined;
  let attempt: Promise<void> = Promise.resolve();

  const record = (now: Date, transitions: number, acquired: string | undefined) => ({
    holderIdentity: options.identity,
    leaseDurationSeconds: Math.ceil(leaseMs / 1000),
    acquireTime: acquired ?? microTime(now),
    renewTime: microTime(now),
    leaseTransitions: transitions,
  });

  async function tryAcquireOrRenew(): Promise<boolean> {
    const now = new Date();
    const lease = await options.api.get<Lease>(path);
    if (lease === undefined) {
      await options.api.create({
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name, namespace: options.namespace },
        spec: record(now, 0, undefined),
      });
      return true;
    }
    const spec = lease.spec ?? {};
    const seen = `${spec.holderIdentity ?? ''}|${spec.renewTime ?? ''}`;
    if (seen !== observed) {
      observed = seen;
      observedAt = Date.now();
    }
    const holder = spec.holderIdentity ?? '';
    const mine = holder === options.identity;
    const expired = holder === '' || Date.now() - observedAt > (spec.leaseDurationSeconds ?? 15) * 1000;
    if (!mine && !expired) return false;
    const transitions = (spec.leaseTransitions ?? 0) + (mine ? 0 : 1);
    await options.api.replace({
      ...lease,
      spec: record(now, transitions, mine ? (spec.acquireTime ?? undefined) : undefined),
    });
    return true;
  }

  async function tick(): Promise<void> {
    let ok = false;
    try {
      ok = await tryAcquireOrRenew();
    } catch (error) {
      const conflict = error instanceof KubeApiError && error.status === 409;
      if (!conflict)
        options.logger.warn('lease update failed', { lease: `${options.namespace}/${name}`, error: String(error) });
    }
    if (stopped) return;
    if (ok) {
      lastRenew = Date.now();
      if (!leader) {
        leader = true;
        options.logger.info('became leader', { lease: `${options.namespace}/${name}`, identity: options.identity });
        options.onStartedLeading();
      }
    } else if (leader && Date.now() - lastRenew > renewDeadlineMs) {
      leader = false;
      options.logger.warn('lost leadership', { lease: `${options.namespace}/${name}` });
      options.onStoppedLeading();
    }
  }

  function schedule(): void {
    if (stopped) return;
    attempt = tick().finally(() => {
      if (!stopped) timer = setTimeout(schedule, retryMs);
    });
  }
  schedule();

  return {
    get isLeader() {
      return leader;
    },
    async stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await attempt;
      if (!leader) return;
      leader = false;
      try {
        const lease = await options.api.get<Lease>(path);
        if (lease?.spec?.holderIdentity === options.identity) {
          await options.api.replace({
            ...lease,
            spec: { ...lease.spec, holderIdentity: null, leaseDurationSeconds: 1, renewTime: microTime(new Date()) },
          });
        }
      } catch (error) {
        options.logger.warn('could not release the lease', { error: String(error) });
      }
    },
  };
}
