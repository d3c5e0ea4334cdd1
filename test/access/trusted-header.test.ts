// The anchor's x-mcp-authorized header from the access table (signed, absent, untrusted, partial,
// repeated, enforced) through the broker, the Envoy router and the worker, in both protocol eras.
import { TRUSTED_HEADER, TRUSTED_HEADER_ENFORCED } from './access.case.ts';
import { describeAccessTable } from './describe-access-table.ts';

describeAccessTable([TRUSTED_HEADER, TRUSTED_HEADER_ENFORCED]);
