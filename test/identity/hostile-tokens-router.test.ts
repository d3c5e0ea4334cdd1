// The hostile token table against the router behind a real Envoy (the request-headers phase
// answers before anything is routed). See hostile-tokens.case.ts.
import { describeHostileTokens } from './hostile-tokens.case.ts';

describeHostileTokens('router', { status: 401 });
