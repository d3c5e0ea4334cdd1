// Token exchange to an upstream end to end in the router (token-exchange.case.ts).
import { describeTokenExchange } from './token-exchange.case.ts';

describeTokenExchange('router');
