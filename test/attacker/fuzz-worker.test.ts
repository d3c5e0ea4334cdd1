// Fuzzed input (brief C) through the worker: the built bundle in workerd (Miniflare).
import { describeHttpFuzz } from './fuzz-http.case.ts';
import { startWorkerHost } from './http-hosts.ts';

describeHttpFuzz('worker', (servers) => startWorkerHost(servers), 3_000);
