// Virtual servers from the access table, alone and intersected with token verification, a trusted
// header and policy rules, through the broker, the Envoy router and the worker, in both eras.
import { INTERSECTIONS, VIRTUAL_SERVER_GROUP } from './access.case.ts';
import { describeAccessTable } from './describe-access-table.ts';

describeAccessTable([VIRTUAL_SERVER_GROUP, INTERSECTIONS]);
