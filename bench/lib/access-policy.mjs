// The access bench's policy: 100 rules as a platform team writes them, over the bench upstreams
// (servers team-0/svc … team-9/svc, tools echo and tool_01 … tool_99 each), and the caller they
// are decided for: a verified platform engineer of acme with read scope.

/** The bench servers, in the config's spelling. */
export const TEAMS = Array.from({ length: 10 }, (_, team) => ({ name: `team-${team}/svc`, prefix: `t${team}_` }));

/** The caller's token claims (over the issuer's defaults). */
export const CALLER_CLAIMS = {
  groups: ['team-3', 'platform'],
  org: { id: 'acme' },
  tier: 'gold',
  level: 2,
  email_verified: true,
  scope: 'mcp:read',
};

/** `policy` (default deny, 40 deny and 60 allow rules) as YAML lines under the config. */
export function policyYaml() {
  const rules = [];
  TEAMS.forEach((team, i) =>
    rules.push({
      name: `team-${i}-members`,
      effect: 'deny',
      servers: [team.name],
      when: `!("team-${i}" in auth.claims.groups) && !("platform" in auth.claims.groups)`,
    }),
  );
  for (let i = 0; i < 5; i++) {
    rules.push({
      name: `admin-scope-${i}`,
      effect: 'deny',
      servers: [`team-${i * 2}/*`],
      tools: ['tool_9*'],
      when: '!("mcp:admin" in auth.scopes)',
    });
    rules.push({
      name: `write-scope-${i}`,
      effect: 'deny',
      servers: [`team-${i * 2 + 1}/*`],
      tools: ['tool_8*'],
      when: '!("mcp:write" in auth.scopes)',
    });
  }
  for (let i = 0; i < 8; i++)
    rules.push({ name: `blocked-org-${i}`, effect: 'deny', when: `auth.claims.org.id == "blocked-${i}"` });
  rules.push({ name: 'verified-email', effect: 'deny', when: 'auth.verified && !auth.claims.email_verified' });
  rules.push({ name: 'no-anonymous', effect: 'deny', when: '!auth.verified' });
  TEAMS.forEach((team, i) =>
    rules.push({
      name: `query-limit-${i}`,
      effect: 'deny',
      servers: [team.name],
      tools: [`tool_5${i}`],
      when: '(has(mcp.arguments.limit) && mcp.arguments.limit > 1000.0) || (has(mcp.arguments.query) && mcp.arguments.query in ["secrets"])',
    }),
  );
  for (let i = 0; i < 50; i++) {
    const tool = String(1 + (i % 40)).padStart(2, '0');
    rules.push({
      name: `allow-tool-${i}`,
      effect: 'allow',
      servers: [TEAMS[i % 10].name],
      tools: [`tool_${tool}`],
      when: `auth.claims.tier in ["gold", "silver"] && request.headers["x-tenant"] == "tenant-${i % 5}"`,
    });
  }
  for (let i = 0; i < 9; i++) {
    rules.push({
      name: `allow-glob-${i}`,
      effect: 'allow',
      servers: [TEAMS[i].name],
      tools: ['tool_*'],
      when: `auth.claims.org.id == "acme" && auth.claims.level >= ${i % 3}.0`,
    });
  }
  rules.push({ name: 'allow-echo', effect: 'allow', tools: ['echo'], when: 'auth.verified' });
  if (rules.length !== 100) throw new Error(`the bench policy has ${rules.length} rules, not 100`);
  return `policy:\n  default: deny\n  rules:\n${rules.map((rule) => `    - ${JSON.stringify(rule)}\n`).join('')}`;
}
