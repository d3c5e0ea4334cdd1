// Policy rules of the access table (deny rules, an allow-list, audit with argument values) through
// the broker, the Envoy router and the worker, in both protocol eras.
import { AUDIT_VALUES, POLICY_ALLOW_LIST, POLICY_DENY_RULES } from './access.case.ts';
import { describeAccessTable } from './describe-access-table.ts';

describeAccessTable([POLICY_DENY_RULES, POLICY_ALLOW_LIST, AUDIT_VALUES]);
