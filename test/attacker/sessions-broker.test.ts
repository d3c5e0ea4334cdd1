// Brief A through the broker: the built Node gateway (`startGateway`), logging at debug.
import { describeSessionBinding } from './sessions.case.ts';
import { startBrokerHost } from './http-hosts.ts';

describeSessionBinding('broker', (servers) => startBrokerHost(servers));
