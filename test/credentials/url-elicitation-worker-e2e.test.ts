// URL elicitation end to end in the worker (url-elicitation.case.ts).
import { describeUrlElicitation } from './url-elicitation.case.ts';

describeUrlElicitation('worker');
