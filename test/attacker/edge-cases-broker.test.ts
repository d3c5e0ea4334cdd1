// The brief's specific hostile inputs (C) through the broker: the built Node gateway.
import { describeEdgeCases } from './edge-cases.case.ts';
import { startBrokerHost } from './http-hosts.ts';

describeEdgeCases('broker', (servers) => startBrokerHost(servers));
