import type { Logger } from '@mcp-gateway/core';
import { createKubeApi } from './kube-api.ts';
import { startController, type Controller, type ControllerOptions } from './controller.ts';
import { startLeaderElection, type LeaderElection } from './leader-election.ts';

/** Options of a controller replica. */
export interface RunControllerOptions extends ControllerOptions {
  /** Campaign for the Lease before reconciling. Default true. */
  readonly leaderElection?: boolean;
  /** Namespace of the Lease. */
  readonly leaseNamespace: string;
  /** Lease name. Default `mcp-gateway-controller`. */
  readonly leaseName?: string;
  /** This replica's holder identity. */
  readonly identity: string;
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
  /** Called when this replica loses the lease after leading (the CLI exits so it restarts clean). */
  readonly onLostLeadership?: () => void;
}

/** A controller replica: reconciling while it leads, standing by otherwise. */
export interface RunningController {
  readonly isLeader: boolean;
  /** The reconcile loop, while this replica leads and it has started. */
  readonly controller: Controller | undefined;
  /** Resolves once this replica leads and its watches have synced. */
  readonly leading: Promise<void>;
  /** Stops reconciling, then releases the lease so another replica takes over at once. */
  stop(): Promise<void>;
}

/** Runs one replica: campaigns for the Lease, starts the controller on winning, stops it on losing. */
export function runController(options: RunControllerOptions): RunningController {
  const logger: Logger = options.logger;
  let controller: Controller | undefined;
  let starting: Promise<void> | undefined;
  let election: LeaderElection | undefined;
  let resolveLeading: () => void = () => undefined;
  const leading = new Promise<void>((resolve) => {
    resolveLeading = resolve;
  });
  let stopped = false;

  const begin = () => {
    starting = (async () => {
      try {
        const started = await startController(options);
        if (stopped) {
          await started.stop();
          return;
        }
        controller = started;
        resolveLeading();
      } catch (error) {
        logger.error('controller failed to start', { error: error instanceof Error ? error.message : String(error) });
        options.onLostLeadership?.();
      }
    })();
  };
  const end = async () => {
    await starting;
    const running = controller;
    controller = undefined;
    await running?.stop();
  };

  if (options.leaderElection === false) {
    begin();
  } else {
    election = startLeaderElection({
      api: createKubeApi(options.kubeConfig),
      logger,
      namespace: options.leaseNamespace,
      identity: options.identity,
      ...(options.leaseName !== undefined ? { name: options.leaseName } : {}),
      ...(options.leaseDurationMs !== undefined ? { leaseDurationMs: options.leaseDurationMs } : {}),
      ...(options.renewDeadlineMs !== undefined ? { renewDeadlineMs: options.renewDeadlineMs } : {}),
      ...(options.retryPeriodMs !== undefined ? { retryPeriodMs: options.retryPeriodMs } : {}),
      onStartedLeading: begin,
      onStoppedLeading: () => {
        void end().then(() => options.onLostLeadership?.());
      },
    });
  }

  return {
    get isLeader() {
      return election === undefined ? controller !== undefined : election.isLeader;
    },
    get controller() {
      return controller;
    },
    leading,
    async stop() {
      stopped = true;
      await end();
      await election?.stop();
    },
  };
}
