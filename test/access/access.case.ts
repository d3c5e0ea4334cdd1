// THE table of access cases (issue 12, items 3–6): policy rules, the anchor's trusted header,
// virtual servers and their intersections, each case with the caller, the headers it sends, what
// its lists show and how its calls are decided. Every case runs through the broker, the Envoy
// router and the worker, in both protocol eras (describe-access-table.ts); the *.test.ts files of
// this folder each run some of its groups. One module on purpose (past 400 lines): it is a table,
// read row by row; the calls' builders are in table-calls.ts.
//
// Upstreams (access-upstreams.ts): `weather` (legacy, prefix w_): tools forecast, delete_city,
// admin_reset; prompts brief, secret_plan; resources weather://today, weather://internal/stations.
// `notes` (2026-07-28, prefix n_): tools search, admin_purge; prompt summary; resources
// notes://index, notes://private/diary. A list a case leaves out is expected unfiltered.
import type { AllowedCapabilities } from '../harness/identity.ts';
import type { AccessSections } from './access-hosts.ts';
import type { AccessCase, AccessGroup, TableContext, TrustedValue } from './access-types.ts';
import { NOTES, WEATHER } from './access-upstreams.ts';
import {
  adminPurge,
  adminReset,
  completeBrief,
  completeSummary,
  deleteCity,
  forecast,
  getBrief,
  getSecretPlan,
  getSummary,
  read,
  search,
  subscribe,
} from './table-calls.ts';

// ── configs ──────────────────────────────────────────────────────────────────────────────────

const AUDIT = { audit: { arguments: 'hash' } };
const oauth = (ctx: TableContext) => ({ oauth: { issuers: [ctx.issuer], audience: ctx.audience } });

const ADMIN_TOOLS_NEED_ADMIN = {
  name: 'admin-tools-need-admin',
  effect: 'deny',
  tools: ['admin_*'],
  when: '!("admin" in auth.claims.roles)',
};
const NO_FORECAST_FOR_PYONGYANG = {
  name: 'no-forecast-for-pyongyang',
  effect: 'deny',
  servers: ['weather'],
  tools: ['forecast'],
  when: 'mcp.arguments.city == "Pyongyang"',
};

/** Deny rules over verified callers, default allow. */
const denyRules = (ctx: TableContext): AccessSections => ({
  auth: oauth(ctx),
  policy: {
    default: 'allow',
    rules: [
      ADMIN_TOOLS_NEED_ADMIN,
      { name: 'no-deletes-on-weather', effect: 'deny', servers: ['weather'], tools: ['delete_*'] },
      {
        name: 'alice-may-delete',
        effect: 'allow',
        servers: ['weather'],
        tools: ['delete_city'],
        when: 'auth.subject == "alice"',
      },
      NO_FORECAST_FOR_PYONGYANG,
      {
        name: 'search-is-for-the-blue-team',
        effect: 'deny',
        servers: ['notes'],
        tools: ['search'],
        when: '!("x-team" in request.headers) || request.headers["x-team"] != "blue"',
      },
      {
        name: 'secret-prompts-need-admin',
        effect: 'deny',
        prompts: ['secret_*'],
        when: '!("admin" in auth.claims.roles)',
      },
      // `has()` first, as the docs advise for a key a request may lack; no host here starts with "internal.".
      {
        name: 'purge-only-on-the-internal-host',
        effect: 'deny',
        servers: ['notes'],
        tools: ['admin_purge'],
        when: 'has(request.headers.host) && !request.headers.host.startsWith("internal.")',
      },
      // The router's headers (x-mcp-servername, …) are the gateway's, not the caller's: no rule sees
      // them, so the broker behind Envoy, which receives them, decides as the broker alone.
      {
        name: 'no-search-with-router-headers',
        effect: 'deny',
        servers: ['notes'],
        tools: ['search'],
        when: '"x-mcp-servername" in request.headers || "x-mcp-method" in request.headers',
      },
      // bob's token has no clearance claim: the condition fails at evaluation, and a deny fails closed.
      {
        name: 'private-notes-need-clearance',
        effect: 'deny',
        servers: ['notes'],
        resources: ['notes://private/*'],
        when: 'auth.claims.clearance != "high"',
      },
    ],
  },
  ...AUDIT,
});

/** An allow-list: default deny. */
const allowList = (ctx: TableContext): AccessSections => ({
  auth: oauth(ctx),
  policy: {
    default: 'deny',
    rules: [
      { name: 'forecasts-for-everyone', effect: 'allow', servers: ['weather'], tools: ['forecast'] },
      { name: 'briefs-for-everyone', effect: 'allow', prompts: ['brief'] },
      { name: 'today-for-everyone', effect: 'allow', resources: ['weather://today'] },
      { name: 'admins-use-notes', effect: 'allow', servers: ['notes'], when: '"admin" in auth.claims.roles' },
      {
        name: 'cleared-staff-read-stations',
        effect: 'allow',
        servers: ['weather'],
        resources: ['weather://internal/*'],
        when: 'auth.claims.clearance == "high"',
      },
    ],
  },
  ...AUDIT,
});

/** `x-mcp-authorized` verified with the table's key; nothing else. */
const trustedHeaders = (ctx: TableContext, enforce = false): AccessSections => ({
  auth: { trustedHeaders: { publicKey: ctx.publicKeyPem, ...(enforce ? { enforceCapabilityFiltering: true } : {}) } },
  ...AUDIT,
});

const VIRTUAL_SERVERS = [
  { name: 'team-a/forecasts', tools: ['w_forecast', 'n_search'], prompts: ['w_brief'] },
  { name: 'team-b/notes', tools: ['n_search', 'n_admin_purge'] },
];

// ── trusted header values ────────────────────────────────────────────────────────────────────

/** What the policy layer grants in most trusted-header cases. */
const GRANTED: AllowedCapabilities = {
  tools: { weather: ['forecast'], notes: ['search'] },
  prompts: { weather: ['brief'] },
  resources: { notes: ['notes://index'] },
};
/** Everything there is. */
const EVERYTHING: AllowedCapabilities = {
  tools: { weather: ['forecast', 'delete_city', 'admin_reset'], notes: ['search', 'admin_purge'] },
  prompts: { weather: ['brief', 'secret_plan'], notes: ['summary'] },
  resources: {
    weather: ['weather://today', 'weather://internal/stations'],
    notes: ['notes://index', 'notes://private/diary'],
  },
};
const signed = (capabilities: AllowedCapabilities): TrustedValue => ({ kind: 'signed', capabilities });

/** Lists that show nothing. */
const NOTHING = { tools: [], prompts: [], resources: [] };

/** The calls a caller who may use nothing makes: each refused. */
const NOTHING_CALLABLE = [
  forecast('Oslo', 'refused'),
  getBrief('refused'),
  read(NOTES, 'notes://index', 'refused'),
  completeBrief('refused'),
];

/** A trusted header the gateway must not trust: nothing listed, every call refused. */
const untrusted = (kind: TrustedValue['kind'], what: string): AccessCase => ({
  name: `a caller with ${what} may use nothing`,
  caller: 'anonymous',
  headers: { trusted: { kind, capabilities: EVERYTHING } },
  expect: NOTHING,
  calls: NOTHING_CALLABLE,
});

// ── the groups ───────────────────────────────────────────────────────────────────────────────

export const POLICY_DENY_RULES: AccessGroup = {
  name: 'policy: deny rules over verified callers (default allow)',
  config: denyRules,
  allowedBy: 'default',
  cases: [
    {
      name: 'alice, an admin on the blue team, sees all but the delete and purge tools and is refused only what a rule denies',
      caller: 'alice',
      headers: { team: 'blue' },
      expect: { tools: ['n_search', 'w_admin_reset', 'w_forecast'] },
      calls: [
        // The rule reads the Host header, which the router's view (HTTP/2 :authority) must have too.
        adminPurge('refused', 'rule:purge-only-on-the-internal-host'),
        forecast('Oslo', 'allowed'),
        forecast('Pyongyang', 'refused', 'rule:no-forecast-for-pyongyang'),
        // Deny overrides allow: alice-may-delete holds for alice, no-deletes-on-weather wins.
        deleteCity('refused', 'rule:no-deletes-on-weather'),
        adminReset('allowed'),
        search('allowed'),
        getSecretPlan('allowed'),
        read(NOTES, 'notes://private/diary', 'allowed'),
        completeBrief('allowed'),
      ],
    },
    {
      name: 'bob, a reader on the red team, sees no admin tool, search, secret prompt or private note and cannot use them',
      caller: 'bob',
      headers: { team: 'red' },
      expect: {
        // forecast stays listed: its deny rule reads the arguments, so only calls can be decided.
        tools: ['w_forecast'],
        prompts: ['n_summary', 'w_brief'],
        resources: ['notes://n_index', 'weather://w_internal/stations', 'weather://w_today'],
      },
      calls: [
        forecast('Oslo', 'allowed'),
        forecast('Pyongyang', 'refused', 'rule:no-forecast-for-pyongyang'),
        adminReset('refused', 'rule:admin-tools-need-admin'),
        adminPurge('refused', 'rule:admin-tools-need-admin'),
        search('refused', 'rule:search-is-for-the-blue-team'),
        getSecretPlan('refused', 'rule:secret-prompts-need-admin'),
        getSummary('allowed'),
        // bob's token lacks the claim: the deny's condition fails at evaluation and holds (fail closed).
        read(NOTES, 'notes://private/diary', 'refused', 'error:private-notes-need-clearance'),
        read(NOTES, 'notes://index', 'allowed'),
        completeSummary('allowed'),
      ],
    },
    {
      name: 'bob without an x-team header neither sees nor calls search',
      caller: 'bob',
      expect: {
        tools: ['w_forecast'],
        prompts: ['n_summary', 'w_brief'],
        resources: ['notes://n_index', 'weather://w_internal/stations', 'weather://w_today'],
      },
      calls: [search('refused', 'rule:search-is-for-the-blue-team'), forecast('Oslo', 'allowed')],
    },
  ],
};

export const POLICY_ALLOW_LIST: AccessGroup = {
  name: 'policy: an allow-list with default deny',
  config: allowList,
  allowedBy: 'default',
  refusedBy: 'default',
  cases: [
    {
      name: 'alice sees what the allow rules grant an admin with clearance and nothing else',
      caller: 'alice',
      expect: {
        tools: ['n_admin_purge', 'n_search', 'w_forecast'],
        prompts: ['n_summary', 'w_brief'],
        resources: ['notes://n_index', 'notes://n_private/diary', 'weather://w_internal/stations', 'weather://w_today'],
      },
      calls: [
        search('allowed', 'rule:admins-use-notes'),
        forecast('Oslo', 'allowed', 'rule:forecasts-for-everyone'),
        deleteCity('refused'),
        getSecretPlan('refused'),
        read(WEATHER, 'weather://internal/stations', 'allowed', 'rule:cleared-staff-read-stations'),
        completeBrief('allowed', 'rule:briefs-for-everyone'),
      ],
    },
    {
      name: 'bob sees only what the allow rules grant everyone',
      caller: 'bob',
      expect: { tools: ['w_forecast'], prompts: ['w_brief'], resources: ['weather://w_today'] },
      calls: [
        forecast('Oslo', 'allowed', 'rule:forecasts-for-everyone'),
        search('refused'),
        adminReset('refused'),
        getBrief('allowed', 'rule:briefs-for-everyone'),
        getSummary('refused'),
        read(WEATHER, 'weather://today', 'allowed', 'rule:today-for-everyone'),
        // The allow rule that would grant it fails at evaluation: default deny, naming that rule.
        read(WEATHER, 'weather://internal/stations', 'refused', 'error:cleared-staff-read-stations'),
        read(NOTES, 'notes://index', 'refused'),
      ],
    },
  ],
};

export const TRUSTED_HEADER: AccessGroup = {
  name: "trusted header: the anchor's x-mcp-authorized (no token verification)",
  config: (ctx) => trustedHeaders(ctx),
  allowedBy: 'open',
  refusedBy: 'capabilities',
  cases: [
    {
      name: 'the signed capabilities filter each list per server by unprefixed names and refuse calls outside them',
      caller: 'anonymous',
      headers: { trusted: signed(GRANTED) },
      expect: { tools: ['n_search', 'w_forecast'], prompts: ['w_brief'], resources: ['notes://n_index'] },
      calls: [
        forecast('Oslo', 'allowed'),
        search('allowed'),
        deleteCity('refused'),
        adminPurge('refused'),
        getBrief('allowed'),
        getSecretPlan('refused'),
        read(NOTES, 'notes://index', 'allowed'),
        read(WEATHER, 'weather://today', 'refused'),
        completeBrief('allowed'),
        completeSummary('refused'),
      ],
    },
    {
      name: 'a caller without the header may use everything',
      caller: 'anonymous',
      expect: {},
      calls: [deleteCity('allowed'), getSecretPlan('allowed'), read(WEATHER, 'weather://internal/stations', 'allowed')],
    },
    {
      name: 'a session cannot subscribe to a resource outside the signed capabilities',
      caller: 'anonymous',
      eras: ['legacy'],
      headers: { trusted: signed(GRANTED) },
      expect: { tools: ['n_search', 'w_forecast'], prompts: ['w_brief'], resources: ['notes://n_index'] },
      calls: [
        subscribe(WEATHER, 'weather://today', 'refused'),
        subscribe(WEATHER, 'weather://internal/stations', 'refused'),
      ],
    },
    untrusted('expired', 'an expired header'),
    untrusted('foreignKey', 'a header signed by another key'),
    untrusted('wrongCurve', 'a header signed on the wrong curve (ES384)'),
    untrusted('unsigned', 'an unsigned header (alg none)'),
    untrusted('claimNotAString', 'a header whose capabilities claim is not a JSON string'),
    {
      name: 'an empty prompts map allows no prompt while a missing resources key leaves resources unfiltered',
      caller: 'anonymous',
      headers: { trusted: signed({ tools: { weather: ['forecast'] }, prompts: {} }) },
      expect: { tools: ['w_forecast'], prompts: [] },
      calls: [getBrief('refused'), search('refused'), read(WEATHER, 'weather://internal/stations', 'allowed')],
    },
    {
      name: 'a header naming only prompts leaves tools and resources unfiltered',
      caller: 'anonymous',
      headers: { trusted: signed({ prompts: { notes: ['summary'] } }) },
      expect: { prompts: ['n_summary'] },
      calls: [deleteCity('allowed'), getSummary('allowed'), getBrief('refused')],
    },
    {
      name: 'of two header values the last one is used: an unsigned wide one, then a signed narrow one',
      caller: 'anonymous',
      headers: {
        trusted: [{ kind: 'unsigned', capabilities: EVERYTHING }, signed({ tools: { weather: ['forecast'] } })],
      },
      expect: { tools: ['w_forecast'] },
      calls: [forecast('Oslo', 'allowed'), search('refused'), getSecretPlan('allowed')],
    },
    {
      name: 'of two header values the last one is used: a signed one, then an expired one',
      caller: 'anonymous',
      headers: { trusted: [signed(EVERYTHING), { kind: 'expired', capabilities: EVERYTHING }] },
      expect: NOTHING,
      calls: NOTHING_CALLABLE,
    },
  ],
};

export const TRUSTED_HEADER_ENFORCED: AccessGroup = {
  name: 'trusted header enforced (auth.trustedHeaders.enforceCapabilityFiltering)',
  config: (ctx) => trustedHeaders(ctx, true),
  allowedBy: 'open',
  refusedBy: 'capabilities',
  cases: [
    {
      name: 'a caller without the header may use nothing',
      caller: 'anonymous',
      expect: NOTHING,
      calls: NOTHING_CALLABLE,
    },
    {
      name: 'the signed capabilities still grant what they list',
      caller: 'anonymous',
      headers: { trusted: signed(GRANTED) },
      expect: { tools: ['n_search', 'w_forecast'], prompts: ['w_brief'], resources: ['notes://n_index'] },
      calls: [forecast('Oslo', 'allowed'), deleteCity('refused'), read(NOTES, 'notes://index', 'allowed')],
    },
    {
      name: 'a kind missing from the header allows nothing of that kind',
      caller: 'anonymous',
      headers: { trusted: signed({ tools: { weather: ['forecast'] } }) },
      expect: { tools: ['w_forecast'], prompts: [], resources: [] },
      calls: [forecast('Oslo', 'allowed'), getBrief('refused'), read(WEATHER, 'weather://today', 'refused')],
    },
  ],
};

const UNKNOWN_VS = 'error -32602 Unknown virtual server: team-z/nothing';

export const VIRTUAL_SERVER_GROUP: AccessGroup = {
  name: 'virtual servers (no token verification)',
  config: () => ({ virtualServers: VIRTUAL_SERVERS, ...AUDIT }),
  allowedBy: 'open',
  refusedBy: 'virtual-server',
  cases: [
    {
      name: 'a caller of a virtual server sees only its tools and prompts, and all resources',
      caller: 'anonymous',
      headers: { virtualServer: 'team-a/forecasts' },
      expect: { tools: ['n_search', 'w_forecast'], prompts: ['w_brief'] },
      calls: [
        forecast('Oslo', 'allowed'),
        deleteCity('refused'),
        adminPurge('refused'),
        getBrief('allowed'),
        getSecretPlan('refused'),
        getSummary('refused'),
        completeSummary('refused'),
        read(WEATHER, 'weather://internal/stations', 'allowed'),
      ],
    },
    {
      name: 'a virtual server that lists no prompts leaves prompts unfiltered',
      caller: 'anonymous',
      headers: { virtualServer: 'team-b/notes' },
      expect: { tools: ['n_admin_purge', 'n_search'] },
      calls: [adminPurge('allowed'), forecast('Oslo', 'refused'), getSecretPlan('allowed')],
    },
    {
      name: 'a session keeps the virtual server it was initialized with when later requests drop the header',
      caller: 'anonymous',
      eras: ['legacy'],
      headers: { virtualServer: 'team-a/forecasts' },
      laterHeaders: {},
      expect: { tools: ['n_search', 'w_forecast'], prompts: ['w_brief'] },
      calls: [forecast('Oslo', 'allowed'), deleteCity('refused'), adminPurge('refused')],
    },
    {
      name: 'a session keeps the virtual server it was initialized with when later requests name another',
      caller: 'anonymous',
      eras: ['legacy'],
      headers: { virtualServer: 'team-a/forecasts' },
      laterHeaders: { virtualServer: 'team-b/notes' },
      expect: { tools: ['n_search', 'w_forecast'], prompts: ['w_brief'] },
      calls: [adminPurge('refused'), forecast('Oslo', 'allowed'), getSecretPlan('refused')],
    },
    {
      name: 'an unknown virtual server refuses the session',
      caller: 'anonymous',
      eras: ['legacy'],
      headers: { virtualServer: 'team-z/nothing' },
      expect: { initialize: UNKNOWN_VS },
      calls: [],
    },
    {
      name: 'an unknown virtual server refuses every request',
      caller: 'anonymous',
      eras: ['modern'],
      headers: { virtualServer: 'team-z/nothing' },
      expect: { tools: UNKNOWN_VS, prompts: UNKNOWN_VS, resources: UNKNOWN_VS },
      calls: [forecast('Oslo', { error: UNKNOWN_VS }), read(WEATHER, 'weather://today', { error: UNKNOWN_VS })],
    },
    {
      name: 'a caller without a virtual server sees and calls everything',
      caller: 'anonymous',
      expect: {},
      calls: [deleteCity('allowed'), adminPurge('allowed')],
    },
    {
      name: 'a caller sending x-mcp-authorized to a gateway with no key to verify it may use nothing',
      caller: 'anonymous',
      headers: { trusted: signed(EVERYTHING) },
      expect: NOTHING,
      calls: [forecast('Oslo', 'refused', 'capabilities'), read(WEATHER, 'weather://today', 'refused', 'capabilities')],
    },
  ],
};

/** The intersections' trusted header: it grants admin_reset (outside the virtual server) but not delete_city. */
const OPS_GRANT: AllowedCapabilities = {
  tools: { weather: ['forecast', 'admin_reset'], notes: ['search', 'admin_purge'] },
  prompts: { weather: ['brief', 'secret_plan'] },
  resources: { weather: ['weather://today'] },
};

export const INTERSECTIONS: AccessGroup = {
  name: 'intersections: token verification, a trusted header, a virtual server and policy rules together',
  config: (ctx) => ({
    auth: { ...oauth(ctx), trustedHeaders: { publicKey: ctx.publicKeyPem } },
    virtualServers: [
      {
        name: 'team-a/ops',
        tools: ['w_forecast', 'w_delete_city', 'n_search', 'n_admin_purge'],
        prompts: ['w_brief', 'w_secret_plan'],
      },
    ],
    policy: { default: 'allow', rules: [ADMIN_TOOLS_NEED_ADMIN, NO_FORECAST_FOR_PYONGYANG] },
    ...AUDIT,
  }),
  allowedBy: 'default',
  cases: [
    {
      name: 'alice sees what the virtual server, the header and the rules all allow',
      caller: 'alice',
      headers: { virtualServer: 'team-a/ops', trusted: signed(OPS_GRANT) },
      expect: {
        tools: ['n_admin_purge', 'n_search', 'w_forecast'],
        prompts: ['w_brief', 'w_secret_plan'],
        resources: ['weather://w_today'],
      },
      calls: [
        adminReset('refused', 'virtual-server'),
        deleteCity('refused', 'capabilities'),
        adminPurge('allowed'),
        forecast('Pyongyang', 'refused', 'rule:no-forecast-for-pyongyang'),
        forecast('Oslo', 'allowed'),
        getSecretPlan('allowed'),
        read(WEATHER, 'weather://internal/stations', 'refused', 'capabilities'),
        read(WEATHER, 'weather://today', 'allowed'),
      ],
    },
    {
      name: 'bob with the same header and virtual server is refused the admin tool by a rule',
      caller: 'bob',
      headers: { virtualServer: 'team-a/ops', trusted: signed(OPS_GRANT) },
      expect: {
        tools: ['n_search', 'w_forecast'],
        prompts: ['w_brief', 'w_secret_plan'],
        resources: ['weather://w_today'],
      },
      calls: [
        adminPurge('refused', 'rule:admin-tools-need-admin'),
        search('allowed'),
        deleteCity('refused', 'capabilities'),
      ],
    },
    {
      name: 'bob without the header sees what the virtual server and the rules allow',
      caller: 'bob',
      headers: { virtualServer: 'team-a/ops' },
      expect: { tools: ['n_search', 'w_delete_city', 'w_forecast'], prompts: ['w_brief', 'w_secret_plan'] },
      calls: [
        deleteCity('allowed'),
        adminPurge('refused', 'rule:admin-tools-need-admin'),
        adminReset('refused', 'virtual-server'),
        getSummary('refused', 'virtual-server'),
      ],
    },
  ],
};

/** The key and enforcement from the environment and the flag (the hosts are started with them). */
export const FROM_THE_ENVIRONMENT: AccessGroup = {
  name: 'trusted header key from TRUSTED_HEADER_PUBLIC_KEY, enforced by --enforce-capability-filtering / ENFORCE_CAPABILITY_FILTERING',
  config: () => ({ ...AUDIT }),
  allowedBy: 'open',
  refusedBy: 'capabilities',
  cases: [
    {
      name: 'a caller without the header may use nothing',
      caller: 'anonymous',
      expect: NOTHING,
      calls: NOTHING_CALLABLE,
    },
    {
      name: 'the signed capabilities grant what they list',
      caller: 'anonymous',
      headers: { trusted: signed(GRANTED) },
      expect: { tools: ['n_search', 'w_forecast'], prompts: ['w_brief'], resources: ['notes://n_index'] },
      calls: [
        forecast('Oslo', 'allowed'),
        getBrief('allowed'),
        deleteCity('refused'),
        read(WEATHER, 'weather://today', 'refused'),
      ],
    },
    untrusted('wrongCurve', 'a header signed on the wrong curve (ES384)'),
  ],
};

/** Audit records with argument values (`audit.arguments: values`). */
export const AUDIT_VALUES: AccessGroup = {
  name: 'audit records with argument values',
  config: (ctx) => ({ ...denyRules(ctx), audit: { arguments: 'values' } }),
  allowedBy: 'default',
  cases: [
    {
      name: 'an allowed and a refused call each write one record with their arguments',
      caller: 'bob',
      headers: { team: 'blue' },
      expect: {
        tools: ['n_search', 'w_forecast'],
        prompts: ['n_summary', 'w_brief'],
        resources: ['notes://n_index', 'weather://w_internal/stations', 'weather://w_today'],
      },
      calls: [
        forecast('Oslo', 'allowed'),
        forecast('Pyongyang', 'refused', 'rule:no-forecast-for-pyongyang'),
        search('allowed'),
        getSummary('allowed'),
      ],
    },
  ],
};

/** A config whose one rule hides and refuses delete_city: the last good config of the reload cases. */
export const LAST_GOOD_POLICY: AccessGroup = {
  name: 'a policy that hides delete_city',
  config: () => ({
    policy: { rules: [{ name: 'no-deletes-on-weather', effect: 'deny', servers: ['weather'], tools: ['delete_*'] }] },
    ...AUDIT,
  }),
  allowedBy: 'default',
  cases: [
    {
      name: 'an anonymous caller sees every tool but delete_city and cannot call it',
      caller: 'anonymous',
      expect: { tools: ['n_admin_purge', 'n_search', 'w_admin_reset', 'w_forecast'] },
      calls: [deleteCity('refused', 'rule:no-deletes-on-weather'), forecast('Oslo', 'allowed'), search('allowed')],
    },
  ],
};

/**
 * `sections` with its rules replaced by one whose condition names a field `auth` does not have:
 * were it applied, delete_city would be listed and callable again.
 */
export function withMisspelledRule(sections: AccessSections): AccessSections {
  const typo = { name: 'mallory-may-not', effect: 'deny', when: 'auth.subjet == "mallory"' };
  return { ...sections, policy: { rules: [typo] } };
}

/** What the hosts say about that rule: its place in the file, the problem and its position in the condition. */
export const MISSPELLED_RULE_ISSUE =
  /policy\.rules\[0\]\.when: auth has no field "subjet" \(it has verified, issuer, subject, clientId, scopes, claims\) at line 1, column \d+/;
