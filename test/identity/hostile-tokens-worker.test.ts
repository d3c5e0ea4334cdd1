// The hostile token table against the worker (the built bundle in workerd). See hostile-tokens.case.ts.
import { describeHostileTokens } from './hostile-tokens.case.ts';

describeHostileTokens('worker', { status: 401 });
