// Token exchange to an upstream end to end in the broker (token-exchange.case.ts).
import { describeTokenExchange } from './token-exchange.case.ts';

describeTokenExchange('broker');
