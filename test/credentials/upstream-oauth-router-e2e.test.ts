// An upstream with its own OAuth end to end in the router (upstream-oauth.case.ts).
import { describeUpstreamOAuth } from './upstream-oauth.case.ts';

describeUpstreamOAuth('router');
