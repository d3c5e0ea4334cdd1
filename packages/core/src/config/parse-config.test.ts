import { describe, expect, it } from 'vitest';
import { parseConfig } from './parse-config.ts';
import type { ConfigResult } from './parse-config.ts';
import type { GatewayConfig } from './schema.ts';

function configOf(result: ConfigResult): GatewayConfig {
  if (!result.ok) throw new Error(`expected a valid config, got:\n${result.error.message}`);
  return result.config;
}

function warningsOf(result: ConfigResult): string[] {
  if (!result.ok) throw new Error(`expected a valid config, got:\n${result.error.message}`);
  return result.warnings;
}

function errorLines(result: ConfigResult): string[] {
  if (result.ok) throw new Error('expected an invalid config');
  expect(result.error.code).toBe('CONFIG_INVALID');
  return result.error.message.split('\n');
}

const ANCHOR_FILE = `
servers:
  - name: mcp-test/server1
    url: http://mcp-server1.mcp-test.svc.cluster.local:9090/mcp
    hostname: server1.mcp.local
    prefix: s1_
    state: Enabled
    credential: "Bearer xyz"
    userSpecificList: false
    category: [weather]
    hint: "Forecasts"
    tags: [a, b]
    tokenURLElicitation: {url: "https://vault.example.com/ui/tokens"}
    guardrailsConfigIDs: []
virtualServers:
  - name: mcp-test/my-vs
    tools: [s1_greet, s2_time]
    prompts: [s1_hello]
gatewayCACertPEM: |
  -----BEGIN CERTIFICATE-----
  MIIB
  -----END CERTIFICATE-----
globalGuardrails:
  url: https://nemo:8080
`;

describe('parseConfig quotas', () => {
  const server = (quotas: string) =>
    `servers:\n  - name: github\n    url: http://gh.internal/mcp\n    quotas:\n${quotas}`;

  it('reads a quota per tool and one for the rest, the window defaulting to 60 s', () => {
    const config = configOf(
      parseConfig(
        server('      - tools: [create_issue]\n        requests: 30\n      - concurrentCalls: 4\n'),
        'gateway.yaml',
      ),
    );
    expect(config.servers[0]?.quotas).toEqual([
      { tools: ['create_issue'], requests: 30, windowSeconds: 60 },
      { windowSeconds: 60, concurrentCalls: 4 },
    ]);
  });

  it('refuses quotas that limit nothing, name a tool twice or cover the rest twice', () => {
    const lines = errorLines(
      parseConfig(
        server(
          '      - tools: [a]\n      - tools: [a]\n        requests: 1\n      - requests: 1\n      - concurrentCalls: 1\n',
        ),
        'gateway.yaml',
      ),
    );
    const text = lines.join('\n');
    expect(text).toMatch(
      /servers\[0\]\.quotas\[0\]: limits nothing; give requests \(per windowSeconds\) or concurrentCalls/,
    );
    expect(text).toMatch(/servers\[0\]\.quotas\[1\]: tool "a" already has quotas\[0\]/);
    expect(text).toMatch(/servers\[0\]\.quotas\[3\]: quotas\[2\] already covers every other tool/);
    const invalid = errorLines(parseConfig(server('      - tools: [b]\n        concurrentCalls: 0\n'), 'gateway.yaml'));
    expect(invalid.join('\n')).toMatch(/concurrentCalls.*must be at least 1/);
  });
});

describe('parseConfig tool overrides', () => {
  const server = (overrides: string) =>
    `servers:\n  - name: github\n    url: http://gh.internal/mcp\n    prefix: gh_\n    toolOverrides:\n${overrides}`;

  it('reads every field of an override', () => {
    const config = configOf(
      parseConfig(
        server(
          '      - tool: create_issue\n        name: open_ticket\n        description: Open a ticket\n        descriptionSuffix: Public.\n        fixedArguments: {owner: acme}\n        annotations: {destructiveHint: true}\n      - tool: list_repos\n        hidden: true\n',
        ),
        'gateway.yaml',
      ),
    );
    expect(config.servers[0]?.toolOverrides).toEqual([
      {
        tool: 'create_issue',
        name: 'open_ticket',
        description: 'Open a ticket',
        descriptionSuffix: 'Public.',
        fixedArguments: { owner: 'acme' },
        annotations: { destructiveHint: true },
      },
      { tool: 'list_repos', hidden: true },
    ]);
  });

  it('refuses overrides that collide or contradict themselves, naming the server entry and the tool', () => {
    const lines = errorLines(
      parseConfig(
        server(
          '      - tool: a\n        name: same\n      - tool: b\n        name: same\n      - tool: a\n        description: again\n      - tool: c\n        hidden: true\n        name: visible\n',
        ),
        'gateway.yaml',
      ),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/servers\[0\]\.toolOverrides\[1\]: tools "a" and "b" are both renamed "same"/),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/servers\[0\]\.toolOverrides\[2\]: tool "a" has another override above/),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/servers\[0\]\.toolOverrides\[3\]: tool "c" is hidden; name would never apply/),
    );
  });

  it('refuses a served name MCP does not allow and a field it does not know', () => {
    const lines = errorLines(
      parseConfig(
        server('      - tool: a\n        name: "has space"\n      - tool: b\n        hiden: true\n'),
        'gateway.yaml',
      ),
    );
    expect(lines.join('\n')).toMatch(/toolOverrides.*name.*must be 1 to 128 letters, digits/s);
    expect(lines.join('\n')).toMatch(/toolOverrides.*must be a mapping of tool, name, description/s);
  });
});

describe('parseConfig', () => {
  it('reads the anchor config file with every field', () => {
    const result = parseConfig(ANCHOR_FILE, 'config.yaml');
    expect(warningsOf(result)).toEqual([]);
    expect(configOf(result)).toEqual({
      servers: [
        {
          name: 'mcp-test/server1',
          url: 'http://mcp-server1.mcp-test.svc.cluster.local:9090/mcp',
          hostname: 'server1.mcp.local',
          prefix: 's1_',
          enabled: true,
          credential: 'Bearer xyz',
          userSpecificList: false,
          category: ['weather'],
          hint: 'Forecasts',
          tags: ['a', 'b'],
          userCredential: { kind: 'paste', url: 'https://vault.example.com/ui/tokens' },
        },
      ],
      virtualServers: [{ name: 'mcp-test/my-vs', tools: ['s1_greet', 's2_time'], prompts: ['s1_hello'] }],
      gatewayCACertPEM: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
      credentials: { pastedTokenTtlSeconds: 86400 },
    });
  });

  it('reads the seed document spelling with enabled and toolPrefix', () => {
    const text = `
servers:
  - name: weather-service
    url: http://weather.example.com:8080
    hostname: weather.example.com
    enabled: true
    toolPrefix: "weather_"
  - name: calendar-service
    url: http://calendar.example.com:8080
    enabled: false
    toolPrefix: "cal_"
`;
    const [weather, calendar] = configOf(parseConfig(text, 'config.yaml')).servers;
    expect(weather).toMatchObject({ name: 'weather-service', prefix: 'weather_', enabled: true });
    expect(calendar).toMatchObject({ name: 'calendar-service', prefix: 'cal_', enabled: false });
  });

  it('fills defaults for a server given only a name and a URL', () => {
    const text = 'servers:\n  - name: plain\n    url: http://plain.local:9090/mcp\n';
    expect(configOf(parseConfig(text, 'config.yaml')).servers).toEqual([
      {
        name: 'plain',
        url: 'http://plain.local:9090/mcp',
        hostname: 'plain.local:9090',
        prefix: '',
        enabled: true,
        userSpecificList: false,
        category: ['uncategorised'],
        tags: [],
      },
    ]);
  });

  it('defaults the hostname to the URL host without a port when the URL has none', () => {
    const text = 'servers:\n  - {name: a, url: "https://api.example.com/mcp"}\n';
    expect(configOf(parseConfig(text, 'config.yaml')).servers[0]?.hostname).toBe('api.example.com');
  });

  it('treats state Disabled as a disabled server and an empty state as enabled', () => {
    const text = `
servers:
  - {name: off, url: "http://a", state: Disabled}
  - {name: on, url: "http://b", state: ""}
`;
    const servers = configOf(parseConfig(text, 'config.yaml')).servers;
    expect(servers.map((s) => [s.name, s.enabled])).toEqual([
      ['off', false],
      ['on', true],
    ]);
  });

  it('accepts prefix and toolPrefix together when they agree', () => {
    const text = 'servers:\n  - {name: a, url: "http://a", prefix: a_, toolPrefix: a_}\n';
    expect(configOf(parseConfig(text, 'config.yaml')).servers[0]?.prefix).toBe('a_');
  });

  it('treats an empty file, a comment-only file and an empty server list as an empty config', () => {
    for (const text of ['', '# nothing yet\n', 'servers: []\nvirtualServers: []\n', 'servers:\n']) {
      expect(configOf(parseConfig(text, 'config.yaml'))).toEqual({ servers: [], virtualServers: [] });
    }
  });

  it('names the file, the field path and the reason for an invalid URL', () => {
    const text = 'servers:\n  - {name: a, url: "http://a"}\n  - {name: b, url: "localhost:8080"}\n';
    expect(errorLines(parseConfig(text, 'config.yaml'))).toEqual([
      'config.yaml: servers[1].url: must be an absolute http(s) URL (got "localhost:8080")',
    ]);
  });

  it('lists every issue on its own line', () => {
    const text = `
servers:
  - url: ftp://files.local
    state: enabled
    userSpecificList: "yes"
  - name: b
    url: http://b
    category: [1]
virtualServers:
  - tools: s1_greet
`;
    expect(errorLines(parseConfig(text, '/config/config.yaml'))).toEqual([
      '/config/config.yaml: servers[0].name: is required',
      '/config/config.yaml: servers[0].url: must be an absolute http(s) URL (got "ftp://files.local")',
      '/config/config.yaml: servers[0].state: must be Enabled or Disabled (got "enabled")',
      '/config/config.yaml: servers[0].userSpecificList: must be true or false (got "yes")',
      '/config/config.yaml: servers[1].category[0]: must be a list of strings (got 1)',
      '/config/config.yaml: virtualServers[0].name: is required',
      '/config/config.yaml: virtualServers[0].tools: must be a list of strings (got "s1_greet")',
    ]);
  });

  it('never quotes a credential value in an error', () => {
    const text = 'servers:\n  - {name: a, url: "http://a", credential: 123456789}\n';
    const lines = errorLines(parseConfig(text, 'config.yaml'));
    expect(lines).toEqual(['config.yaml: servers[0].credential: must be a string']);
  });

  it('rejects a policy rule whose condition does not compile and says where in the condition', () => {
    const text = `
policy:
  default: deny
  rules:
    - name: devs
      effect: allow
      when: '"dev" in auth.claims.roles'
    - name: broken
      effect: deny
      tools: [reset]
      when: auth.verified && user.admin
`;
    expect(errorLines(parseConfig(text, 'config.yaml'))).toEqual([
      'config.yaml: policy.rules[1].when: unknown variable "user" (a condition sees auth, request, mcp) at line 1, column 18',
    ]);
  });

  it('loads a policy whose rules compile as it is written', () => {
    const text = 'policy:\n  rules:\n    - {name: devs, effect: allow, when: auth.verified}\n';
    expect(configOf(parseConfig(text, 'config.yaml')).policy).toEqual({
      default: 'allow',
      rules: [{ name: 'devs', effect: 'allow', when: 'auth.verified' }],
    });
  });

  it('names the line and column of a YAML syntax error', () => {
    const text = 'servers:\n  - name: a\n    url: [http://a\n';
    const [line] = errorLines(parseConfig(text, 'config.yaml'));
    expect(line).toMatch(/^config\.yaml: line \d+, column \d+: \S/);
  });

  it('rejects a YAML mapping with a repeated key and says where', () => {
    const text = 'servers: []\nservers: []\n';
    expect(errorLines(parseConfig(text, 'config.yaml'))).toEqual([
      'config.yaml: line 2, column 1: Map keys must be unique',
    ]);
  });

  it('rejects a file that is not a mapping', () => {
    expect(errorLines(parseConfig('- name: a\n', 'config.yaml'))).toEqual([
      'config.yaml: must be a mapping with a servers list',
    ]);
    expect(errorLines(parseConfig('just text', 'config.yaml'))).toEqual([
      'config.yaml: must be a mapping with a servers list (got "just text")',
    ]);
    expect(errorLines(parseConfig('servers: [[a]]', 'config.yaml'))).toEqual([
      'config.yaml: servers[0]: must be a mapping',
    ]);
  });

  it('rejects an alias to an anchor the file never defines', () => {
    const [line] = errorLines(parseConfig('servers: *missing\n', 'config.yaml'));
    expect(line).toMatch(/^config\.yaml: .*missing/);
  });

  it('rejects two servers with the same name', () => {
    const text = 'servers:\n  - {name: a, url: "http://a"}\n  - {name: a, url: "http://b"}\n';
    expect(errorLines(parseConfig(text, 'config.yaml'))).toEqual([
      'config.yaml: servers[1].name: "a" is already used by servers[0]',
    ]);
  });

  it('rejects two virtual servers with the same name', () => {
    const text = 'virtualServers:\n  - {name: v, tools: [x]}\n  - {name: v, tools: [y]}\n';
    expect(errorLines(parseConfig(text, 'config.yaml'))).toEqual([
      'config.yaml: virtualServers[1].name: "v" is already used by virtualServers[0]',
    ]);
  });

  it('rejects a prefix that contradicts toolPrefix', () => {
    const text = 'servers:\n  - {name: a, url: "http://a", prefix: a_, toolPrefix: b_}\n';
    expect(errorLines(parseConfig(text, 'config.yaml'))).toEqual([
      'config.yaml: servers[0].prefix: "a_" contradicts toolPrefix "b_"; give only prefix',
    ]);
  });

  it('rejects a state that contradicts enabled', () => {
    const text = 'servers:\n  - {name: a, url: "http://a", state: Disabled, enabled: true}\n';
    expect(errorLines(parseConfig(text, 'config.yaml'))).toEqual([
      'config.yaml: servers[0].state: Disabled contradicts enabled: true; give only state',
    ]);
  });

  it('rejects a prefix with characters that cannot appear in a tool name', () => {
    const text = 'servers:\n  - {name: a, url: "http://a", prefix: "a b"}\n';
    expect(errorLines(parseConfig(text, 'config.yaml'))).toEqual([
      'config.yaml: servers[0].prefix: may hold only letters, digits, "_", "." and "-" (got "a b")',
    ]);
  });

  it('rejects a CA certificate field that holds no PEM certificate', () => {
    const text = 'gatewayCACertPEM: not-a-cert\nservers:\n  - {name: a, url: "https://a", caCert: "abc"}\n';
    expect(errorLines(parseConfig(text, 'config.yaml'))).toEqual([
      'config.yaml: servers[0].caCert: must hold PEM certificates (-----BEGIN CERTIFICATE-----) (got "abc")',
      'config.yaml: gatewayCACertPEM: must hold PEM certificates (-----BEGIN CERTIFICATE-----) (got "not-a-cert")',
    ]);
  });

  it('warns about two enabled servers sharing a prefix and still loads both', () => {
    const text = `
servers:
  - {name: a, url: "http://a", prefix: p_}
  - {name: b, url: "http://b", prefix: p_}
  - {name: c, url: "http://c", prefix: p_, state: Disabled}
  - {name: d, url: "http://d"}
  - {name: e, url: "http://e"}
`;
    const result = parseConfig(text, 'config.yaml');
    expect(configOf(result).servers.map((s) => s.name)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(warningsOf(result)).toEqual([
      'config.yaml: servers[0] "a", servers[1] "b" share the prefix "p_"; a tool or prompt name both expose is served only for the first',
    ]);
  });

  it('warns about unknown top-level and server fields by name', () => {
    const text = `
sever: typo
servers:
  - {name: a, url: "http://a", prefx: a_, timeout: 3}
virtualServers:
  - {name: v, tools: [x], description: "accepted", tool: [y]}
`;
    const result = parseConfig(text, 'config.yaml');
    expect(configOf(result).servers[0]?.prefix).toBe('');
    expect(warningsOf(result)).toEqual([
      'config.yaml: unknown top-level field "sever" ignored',
      'config.yaml: servers[0]: unknown fields "prefx", "timeout" ignored',
      'config.yaml: virtualServers[0]: unknown field "tool" ignored',
    ]);
  });

  it('leaves prompts unset for a virtual server that lists none', () => {
    const text = 'virtualServers:\n  - {name: v, tools: [x]}\n';
    expect(configOf(parseConfig(text, 'config.yaml')).virtualServers).toEqual([{ name: 'v', tools: ['x'] }]);
  });

  it('treats fields written without a value as not given', () => {
    const text =
      'servers:\n  - name: a\n    url: http://a:81\n    prefix:\n    hostname:\n    category:\n    credential:\n';
    expect(configOf(parseConfig(text, 'config.yaml')).servers[0]).toEqual({
      name: 'a',
      url: 'http://a:81',
      hostname: 'a:81',
      prefix: '',
      enabled: true,
      userSpecificList: false,
      category: ['uncategorised'],
      tags: [],
    });
  });

  it('rejects documents that are not config files with an error rather than an exception', () => {
    for (const text of ['\u0000', '{', ': :', '!!binary aGVsbG8=', '&a [*a]', 'servers: {name: a}']) {
      const result = parseConfig(text, 'config.yaml');
      expect(result.ok, text).toBe(false);
    }
  });

  it('reads the access sections: token verification, trusted headers and audit', () => {
    const text = [
      'auth:',
      '  oauth:',
      '    issuers: [https://idp.example.com, {issuer: "http://127.0.0.1:8081", jwksUri: "http://127.0.0.1:8081/jwks"}]',
      '    audience: https://mcp.example.com/mcp',
      '    requiredScopes: [mcp:tools]',
      '  trustedHeaders: {enforceCapabilityFiltering: true}',
      'audit: {arguments: values}',
      '',
    ].join('\n');
    const config = configOf(parseConfig(text, 'config.yaml'));
    expect(config.auth).toEqual({
      oauth: {
        issuers: [
          { issuer: 'https://idp.example.com' },
          { issuer: 'http://127.0.0.1:8081', jwksUri: 'http://127.0.0.1:8081/jwks' },
        ],
        audience: 'https://mcp.example.com/mcp',
        requiredScopes: ['mcp:tools'],
      },
      trustedHeaders: { enforceCapabilityFiltering: true },
    });
    expect(config.audit).toEqual({ arguments: 'values' });
  });

  it.each([
    ['an issuer that is not a URL', 'auth: {oauth: {issuers: [not-a-url]}}', /auth\.oauth\.issuers\[0\]/],
    [
      'a plain-http issuer off loopback',
      'auth: {oauth: {issuers: ["http://idp.example.com"]}}',
      /auth\.oauth\.issuers\[0\]/,
    ],
    ['no issuer', 'auth: {oauth: {issuers: []}}', /must name at least one issuer/],
    ['an issuer listed twice', 'auth: {oauth: {issuers: [https://a.example, https://a.example]}}', /listed twice/],
    ['an audit mode that does not exist', 'audit: {arguments: all}', /must be hash or values/],
  ])('refuses %s', (_name, text, message) => {
    const result = parseConfig(text, 'config.yaml');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).toMatch(message);
  });
});
