// URL elicitation end to end in the router (url-elicitation.case.ts).
import { describeUrlElicitation } from './url-elicitation.case.ts';

describeUrlElicitation('router');
