// URL elicitation end to end in the broker (url-elicitation.case.ts).
import { describeUrlElicitation } from './url-elicitation.case.ts';

describeUrlElicitation('broker');
