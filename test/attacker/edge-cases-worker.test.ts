// The brief's specific hostile inputs (C) through the worker: the built bundle in workerd.
import { describeEdgeCases } from './edge-cases.case.ts';
import { startWorkerHost } from './http-hosts.ts';

describeEdgeCases('worker', (servers) => startWorkerHost(servers));
