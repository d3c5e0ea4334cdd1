// Brief A through the worker: the built bundle in workerd (Miniflare), with the Durable Object.
import { describeSessionBinding } from './sessions.case.ts';
import { startWorkerHost } from './http-hosts.ts';

describeSessionBinding('worker', (servers) => startWorkerHost(servers));
