// Policy rules of the access table (deny rules, an allow-list, audit with argument values) through
// the broker, the Envoy router and the worker, in both protocol eras; then, that no token reached
// an audit record.
import { expect, it } from 'vitest';
import { AUDIT_VALUES, POLICY_ALLOW_LIST, POLICY_DENY_RULES } from './access.case.ts';
import { HOST_NAMES } from './access-hosts.ts';
import { describeAccessTable } from './describe-access-table.ts';

const suite = describeAccessTable([POLICY_DENY_RULES, POLICY_ALLOW_LIST, AUDIT_VALUES]);

it('writes no token and no Authorization value to the audit records', async () => {
  const { alice, bob } = suite.run().tokens;
  await new Promise((resolve) => setTimeout(resolve, 300));
  for (const name of HOST_NAMES) {
    const text = suite.hosts()[name].auditText();
    const records = text.split('\n').filter((line) => line.includes('"event":"audit"'));
    expect({ host: name, recorded: records.length > 0 }).toEqual({ host: name, recorded: true });
    const leaks = records.filter(
      (line) => line.includes(alice) || line.includes(bob) || /bearer/i.test(line) || /authorization/i.test(line),
    );
    expect({ host: name, leaks }).toEqual({ host: name, leaks: [] });
  }
});
