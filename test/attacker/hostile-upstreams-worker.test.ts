// Brief B through the worker (the built bundle in workerd, as Miniflare runs it): the same hostile
// matrix as through the broker; the worker relays calls with the same core.
import { describeHostileUpstreams } from './hostile-upstreams.case.ts';
import { startWorkerHost } from './http-hosts.ts';

describeHostileUpstreams('worker', (servers) => startWorkerHost(servers));
