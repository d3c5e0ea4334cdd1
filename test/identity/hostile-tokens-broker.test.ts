// The hostile token table against the broker (the built CLI). See hostile-tokens.case.ts.
import { describeHostileTokens } from './hostile-tokens.case.ts';

describeHostileTokens('broker', { status: 431, because: "Node's HTTP server: its headers are limited to 16 KiB" });
