// A policy of 100 rules as a platform team writes them, a catalog of 1 000 tools on 10 servers
// and one caller, for bench/policy-micro.mjs (and for comparing CEL libraries on the same rules).

/** Servers `team-0/svc` … `team-9/svc`. */
export const SERVERS = Array.from({ length: 10 }, (_, team) => `team-${team}/svc`);

/** 100 tools per server: reads, writes, admin tools, queries. */
export function catalog() {
  const tools = [];
  for (const server of SERVERS) {
    for (let i = 0; i < 100; i++) {
      const name = i < 40 ? `get_item_${i}` : i < 70 ? `update_item_${i}` : i < 80 ? `admin_op_${i}` : `query_${i}`;
      tools.push({ server, kind: 'tool', name, servedName: `${server.split('/')[0]}_${name}` });
    }
  }
  return tools;
}

/** The `policy` section: default deny, 100 rules (40 deny, 60 allow). */
export function platformPolicy() {
  const rules = [];
  // 10 by server: a team's servers only for its members.
  SERVERS.forEach((server, team) =>
    rules.push({
      name: `team-${team}-members`,
      effect: 'deny',
      servers: [server],
      when: `!("team-${team}" in auth.claims.groups) && !("platform" in auth.claims.groups)`,
    }),
  );
  // 10 by tool glob: admin tools need the admin scope, writes need the write scope.
  for (let i = 0; i < 5; i++) {
    rules.push({
      name: `admin-scope-${i}`,
      effect: 'deny',
      servers: [`team-${i * 2}/*`],
      tools: ['admin_*'],
      when: '!("mcp:admin" in auth.scopes)',
    });
    rules.push({
      name: `write-scope-${i}`,
      effect: 'deny',
      servers: [`team-${i * 2 + 1}/*`],
      tools: ['update_*'],
      when: '!("mcp:write" in auth.scopes)',
    });
  }
  // 10 by claim, on every server: blocked organisations, unverified e-mail, service accounts.
  for (let i = 0; i < 8; i++)
    rules.push({ name: `blocked-org-${i}`, effect: 'deny', when: `auth.claims.org.id == "blocked-${i}"` });
  rules.push({ name: 'verified-email', effect: 'deny', when: 'auth.verified && !auth.claims.email_verified' });
  rules.push({ name: 'no-anonymous', effect: 'deny', when: '!auth.verified' });
  // 10 by argument value: row limits and forbidden tables on the query tools.
  for (let i = 0; i < 10; i++) {
    rules.push({
      name: `query-limit-${i}`,
      effect: 'deny',
      servers: [SERVERS[i]],
      tools: [`query_${80 + i}`, `query_${90 + i}`],
      when: `mcp.arguments.limit > 1000.0 || mcp.arguments.table in ["secrets", "audit_${i}"]`,
    });
  }
  // 50 allowances of named tools, by claim.
  for (let i = 0; i < 50; i++) {
    rules.push({
      name: `allow-tool-${i}`,
      effect: 'allow',
      servers: [SERVERS[i % 10]],
      tools: [`get_item_${i % 40}`, `update_item_${40 + (i % 30)}`],
      when: `auth.claims.tier in ["gold", "silver"] && request.headers["x-tenant"] == "tenant-${i % 5}"`,
    });
  }
  // 10 allowances by glob and claim.
  for (let i = 0; i < 10; i++) {
    rules.push({
      name: `allow-glob-${i}`,
      effect: 'allow',
      servers: [SERVERS[i]],
      tools: ['get_*', 'query_*'],
      when: `auth.claims.org.id == "acme" && auth.claims.level >= ${i % 3}.0`,
    });
  }
  return { default: 'deny', rules };
}

/** The caller: a verified platform engineer of acme with read scope only. */
export function callerInput() {
  return {
    issuer: 'https://idp.example.com',
    subject: 'alice',
    clientId: 'cli',
    scopes: ['mcp:read'],
    claims: {
      groups: ['team-3', 'platform'],
      org: { id: 'acme' },
      tier: 'gold',
      level: 2,
      email_verified: true,
      iss: 'https://idp.example.com',
      sub: 'alice',
      aud: 'https://gateway.example.com/mcp',
      exp: 1_900_000_000,
      iat: 1_800_000_000,
    },
  };
}

/** The request headers a client sends (credentials included; the policy drops them). */
export const REQUEST_HEADERS = {
  host: 'gateway.example.com',
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  authorization: 'Bearer eyJhbGciOiJSUzI1NiJ9.e30.sig',
  'mcp-session-id': 'session',
  'mcp-protocol-version': '2025-11-25',
  'user-agent': 'bench',
  'x-tenant': 'tenant-2',
};
