import { describe, expect, it } from 'vitest';
import { freePort } from '../../../../test/harness/free-port.ts';
import type { ServerConfig } from '../config/schema.ts';
import { createUpstreamManager } from '../upstream/upstream-manager.ts';
import { createNodeLogger, type NodeLoggerOptions } from './node-logger.ts';

/** A logger writing into an array, one JSON line per entry, as it would to stdout. */
function capture(options: Partial<NodeLoggerOptions> = {}) {
  const lines: string[] = [];
  const logger = createNodeLogger({
    level: 'debug',
    service: 'mcp-gateway',
    destination: { write: (line: string) => void lines.push(line) },
    ...options,
  });
  return { logger, lines };
}

/**
 * The keys that appear more than once in one object of a JSON text, which JSON.parse hides (it
 * keeps the last). Assumes valid JSON (checked with JSON.parse first).
 */
function repeatedKeys(json: string): string[] {
  JSON.parse(json);
  const repeated: string[] = [];
  let at = 0;
  const skipSpace = () => {
    while (/\s/.test(json[at] ?? '')) at += 1;
  };
  const readString = (): string => {
    const start = at;
    at += 1;
    while (json[at] !== '"') at += json[at] === '\\' ? 2 : 1;
    at += 1;
    return JSON.parse(json.slice(start, at)) as string;
  };
  const readValue = (): void => {
    skipSpace();
    const first = json[at];
    if (first === '"') {
      readString();
    } else if (first === '{' || first === '[') {
      const close = first === '{' ? '}' : ']';
      const keys = new Set<string>();
      at += 1;
      skipSpace();
      while (json[at] !== close) {
        if (first === '{') {
          skipSpace();
          const key = readString();
          if (keys.has(key)) repeated.push(key);
          keys.add(key);
          skipSpace();
          at += 1; // the colon
        }
        readValue();
        skipSpace();
        if (json[at] === ',') at += 1;
        skipSpace();
      }
      at += 1;
    } else {
      while (at < json.length && !/[\s,\]}]/.test(json[at]!)) at += 1;
    }
  };
  readValue();
  return repeated;
}

describe('repeatedKeys', () => {
  it('finds a key repeated in an object at any depth, and nothing in a clean line', () => {
    expect(repeatedKeys('{"a":1,"b":{"c":"}","c":[1,{"d":2}]},"a":"x"}')).toEqual(['c', 'a']);
    expect(repeatedKeys('{"a":"\\"a\\":1","b":[{"a":1},{"a":2}],"c":null}')).toEqual([]);
  });
});

describe('createNodeLogger', () => {
  it('writes one JSON line with level, time, service, the fields and msg', () => {
    const { logger, lines } = capture();
    logger.info('mcp gateway listening', { url: 'http://127.0.0.1:8080/mcp', servers: 2 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/\n$/);
    expect(JSON.parse(lines[0]!)).toEqual({
      level: 'info',
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      service: 'mcp-gateway',
      url: 'http://127.0.0.1:8080/mcp',
      servers: 2,
      msg: 'mcp gateway listening',
    });
  });

  it('writes a field bound by nested children and given again by the call once, with the innermost value', () => {
    const { logger, lines } = capture();
    logger.child({ server: 'pool', jti: 'j1' }).child({ server: 'weather' }).warn('upstream check failed', {
      reason: 'refused',
      jti: 'j2',
    });
    expect(repeatedKeys(lines[0]!)).toEqual([]);
    expect(JSON.parse(lines[0]!)).toMatchObject({ server: 'weather', jti: 'j2', reason: 'refused' });
  });

  it('keeps the line’s own keys and writes a field of the same name as fields.<name>', () => {
    const { logger, lines } = capture({ service: 'mcp-gateway-controller' });
    logger.child({ service: 'bound' }).error('reconcile failed', { msg: 'field', level: 'x', time: 't' });
    expect(repeatedKeys(lines[0]!)).toEqual([]);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: 'error',
      service: 'mcp-gateway-controller',
      msg: 'reconcile failed',
      'fields.service': 'bound',
      'fields.msg': 'field',
      'fields.level': 'x',
      'fields.time': 't',
    });
  });

  it('writes nothing below its level', () => {
    const { logger, lines } = capture({ level: 'warn' });
    logger.child({ server: 'weather' }).info('not written');
    logger.debug('not written either');
    logger.warn('written');
    expect(lines.map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual(['written']);
  });

  it('logs a failed upstream health check with each key once, under the children the gateway gives it', async () => {
    const { logger, lines } = capture();
    const server: ServerConfig = {
      name: 'weather',
      // A port nobody listens on: the check fails with a refused connection.
      url: `http://127.0.0.1:${await freePort()}/mcp`,
      hostname: '127.0.0.1',
      prefix: 'weather_',
      enabled: true,
      userSpecificList: false,
      category: [],
      tags: [],
    };
    // As the gateway's upstream pool does: the manager gets a logger already bound to the server.
    const manager = createUpstreamManager({
      server,
      logger: logger.child({ server: server.name }),
      mode: 'on-demand',
      onSnapshot: () => {},
    });
    manager.start();
    await manager.refresh();
    await manager.stop();
    const line = lines.find((entry) => entry.includes('"upstream check failed"'));
    expect(line).toBeDefined();
    expect(repeatedKeys(line!)).toEqual([]);
    expect(JSON.parse(line!)).toMatchObject({ level: 'warn', server: 'weather', consecutiveFailures: 1 });
  });
});
