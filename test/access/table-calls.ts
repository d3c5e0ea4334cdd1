// The calls the access table (access.case.ts) makes, one builder per item: each takes how the call
// must be decided (allowed, refused, or a JSON-RPC error) and, optionally, what decides it.
import type { CallCase } from './access-types.ts';
import { NOTES, WEATHER, type AccessServer } from './access-upstreams.ts';

type Expect = CallCase['expect'];
type By = CallCase['by'];
const by = (decided: By) => (decided === undefined ? {} : { by: decided });

export const forecast = (city: string, expect: Expect, decided?: By): CallCase => ({
  method: 'tools/call',
  server: WEATHER,
  name: 'forecast',
  args: { city },
  expect,
  ...by(decided),
});
export const deleteCity = (expect: Expect, decided?: By): CallCase => ({
  method: 'tools/call',
  server: WEATHER,
  name: 'delete_city',
  args: { city: 'Oslo' },
  expect,
  ...by(decided),
});
export const adminReset = (expect: Expect, decided?: By): CallCase => ({
  method: 'tools/call',
  server: WEATHER,
  name: 'admin_reset',
  expect,
  ...by(decided),
});
export const search = (expect: Expect, decided?: By): CallCase => ({
  method: 'tools/call',
  server: NOTES,
  name: 'search',
  args: { query: 'trains' },
  expect,
  ...by(decided),
});
export const adminPurge = (expect: Expect, decided?: By): CallCase => ({
  method: 'tools/call',
  server: NOTES,
  name: 'admin_purge',
  expect,
  ...by(decided),
});
export const getBrief = (expect: Expect, decided?: By): CallCase => ({
  method: 'prompts/get',
  server: WEATHER,
  name: 'brief',
  args: { city: 'Oslo' },
  expect,
  ...by(decided),
});
export const getSecretPlan = (expect: Expect, decided?: By): CallCase => ({
  method: 'prompts/get',
  server: WEATHER,
  name: 'secret_plan',
  expect,
  ...by(decided),
});
export const getSummary = (expect: Expect, decided?: By): CallCase => ({
  method: 'prompts/get',
  server: NOTES,
  name: 'summary',
  args: { topic: 'trains' },
  expect,
  ...by(decided),
});
export const completeBrief = (expect: Expect, decided?: By): CallCase => ({
  method: 'completion/complete',
  server: WEATHER,
  name: 'brief',
  args: { city: 'O' },
  expect,
  ...by(decided),
});
export const completeSummary = (expect: Expect, decided?: By): CallCase => ({
  method: 'completion/complete',
  server: NOTES,
  name: 'summary',
  args: { topic: 't' },
  expect,
  ...by(decided),
});
export const subscribe = (server: AccessServer, uri: string, expect: Expect, decided?: By): CallCase => ({
  method: 'resources/subscribe',
  server,
  name: uri,
  expect,
  ...by(decided),
});
export const read = (server: AccessServer, uri: string, expect: Expect, decided?: By): CallCase => ({
  method: 'resources/read',
  server,
  name: uri,
  expect,
  ...by(decided),
});
