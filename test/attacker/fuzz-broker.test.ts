// Fuzzed input (brief C) through the broker: the built Node gateway, logging at info.
import { describeHttpFuzz } from './fuzz-http.case.ts';
import { startBrokerHost } from './http-hosts.ts';

describeHttpFuzz('broker', (servers) => startBrokerHost(servers, ['--log-level', 'info']), 3_000);
