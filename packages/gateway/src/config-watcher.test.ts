import { link, mkdir, mkdtemp, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GatewayConfig, LogFields, Logger } from '@mcp-gateway/core';
import { watchConfigFile } from './config-watcher.ts';
import type { ConfigWatcher, ConfigWatcherOptions } from './config-watcher.ts';

interface LogLine {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly msg: string;
  readonly fields: LogFields | undefined;
}

/** A Logger that keeps its lines in memory for the test to read. */
function createRecordingLogger(): Logger & { readonly lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = {
    lines,
    debug: (msg: string, fields?: LogFields) => lines.push({ level: 'debug', msg, fields }),
    info: (msg: string, fields?: LogFields) => lines.push({ level: 'info', msg, fields }),
    warn: (msg: string, fields?: LogFields) => lines.push({ level: 'warn', msg, fields }),
    error: (msg: string, fields?: LogFields) => lines.push({ level: 'error', msg, fields }),
    child: () => logger,
  };
  return logger;
}

/** Waits until `condition` holds, checking every 10 ms, and fails after `timeoutMs`. */
async function waitFor(what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function configText(...names: string[]): string {
  return `servers:\n${names.map((name) => `  - name: ${name}\n    url: http://${name}.local:9090/mcp\n`).join('')}`;
}

function serverNames(config: GatewayConfig): string[] {
  return config.servers.map((server) => server.name);
}

// Long enough that only the directory watch can deliver a change within a test's wait.
const NO_POLL = 600_000;

let dir: string;
let file: string;
let watchers: ConfigWatcher[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mcpgw-config-'));
  file = join(dir, 'config.yaml');
  watchers = [];
});

afterEach(async () => {
  for (const watcher of watchers) watcher.close();
  await rm(dir, { recursive: true, force: true });
});

async function startWatching(path: string, options: Partial<ConfigWatcherOptions> = {}) {
  const logger = createRecordingLogger();
  const changes: GatewayConfig[] = [];
  const watcher = await watchConfigFile(path, {
    logger,
    onChange: (config) => changes.push(config),
    debounceMs: 20,
    pollIntervalMs: NO_POLL,
    ...options,
  });
  watchers.push(watcher);
  return { watcher, logger, changes };
}

describe('watchConfigFile', () => {
  it('starts with the config in the file', async () => {
    await writeFile(file, configText('alpha', 'beta'));
    const { watcher, changes } = await startWatching(file);
    expect(serverNames(watcher.current())).toEqual(['alpha', 'beta']);
    expect(changes).toEqual([]);
  });

  it('rejects at start when the file is missing', async () => {
    const missing = join(dir, 'nope.yaml');
    await expect(startWatching(missing)).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining(`${missing}: config file not found`),
    });
  });

  it('rejects at start when the file is invalid, naming the file and the field', async () => {
    await writeFile(file, 'servers:\n  - name: a\n    url: localhost\n');
    await expect(startWatching(file)).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: `${file}: servers[0].url: must be an absolute http(s) URL (got "localhost")`,
    });
  });

  it('logs the warnings of the file at start', async () => {
    await writeFile(file, `${configText('alpha')}colour: blue\n`);
    const { logger } = await startWatching(file);
    expect(logger.lines).toContainEqual(
      expect.objectContaining({ level: 'warn', msg: `${file}: unknown top-level field "colour" ignored` }),
    );
  });

  it('applies a valid edit', async () => {
    await writeFile(file, configText('alpha'));
    const { watcher, changes } = await startWatching(file);
    await writeFile(file, configText('alpha', 'beta'));
    await waitFor('the edit to be applied', () => changes.length === 1);
    expect(serverNames(changes[0]!)).toEqual(['alpha', 'beta']);
    expect(serverNames(watcher.current())).toEqual(['alpha', 'beta']);
  });

  it('keeps the last good config after a broken edit and applies a later fixed edit', async () => {
    await writeFile(file, configText('alpha'));
    const { watcher, logger, changes } = await startWatching(file);

    await writeFile(file, 'servers:\n  - name: beta\n    url: beta.local\n');
    await waitFor('the broken edit to be reported', () => logger.lines.some((line) => line.level === 'error'));
    const report = logger.lines.find((line) => line.level === 'error');
    expect(report?.msg).toContain('keeping the last good config');
    expect(report?.msg).toContain(`${file}: servers[0].url: must be an absolute http(s) URL`);
    expect(serverNames(watcher.current())).toEqual(['alpha']);
    expect(changes).toEqual([]);

    await writeFile(file, configText('beta'));
    await waitFor('the fixed edit to be applied', () => changes.length === 1);
    expect(serverNames(watcher.current())).toEqual(['beta']);
  });

  it('does not call back for an edit that leaves the config as it was', async () => {
    await writeFile(file, configText('alpha'));
    const { logger, changes } = await startWatching(file);
    await writeFile(file, `# reviewed\n${configText('alpha')}`);
    await waitFor('the edit to be read', () =>
      logger.lines.some((line) => line.msg.includes('config in force is unchanged')),
    );
    await writeFile(file, configText('alpha', 'beta'));
    await waitFor('the second edit to be applied', () => changes.length > 0);
    expect(changes.map(serverNames)).toEqual([['alpha', 'beta']]);
  });

  it('sees an editor saving by renaming a new file over the old one', async () => {
    await writeFile(file, configText('alpha'));
    const { watcher, changes } = await startWatching(file);
    const temporary = join(dir, '.config.yaml.swp');
    await writeFile(temporary, configText('gamma'));
    await rename(temporary, file);
    await waitFor('the renamed file to be applied', () => changes.length === 1);
    expect(serverNames(watcher.current())).toEqual(['gamma']);
  });

  it('sees a Kubernetes Secret volume update that swaps the ..data symlink', async () => {
    // The kubelet's layout: config.yaml -> ..data/config.yaml, ..data -> a timestamped directory.
    await mkdir(join(dir, '..2026_01_01_00_00_00.1'));
    await writeFile(join(dir, '..2026_01_01_00_00_00.1', 'config.yaml'), configText('alpha'));
    await symlink('..2026_01_01_00_00_00.1', join(dir, '..data'));
    await symlink(join('..data', 'config.yaml'), file);
    const { watcher, changes } = await startWatching(file);
    expect(serverNames(watcher.current())).toEqual(['alpha']);

    await mkdir(join(dir, '..2026_01_01_00_05_00.2'));
    await writeFile(join(dir, '..2026_01_01_00_05_00.2', 'config.yaml'), configText('delta'));
    await symlink('..2026_01_01_00_05_00.2', join(dir, '..data_tmp'));
    await rename(join(dir, '..data_tmp'), join(dir, '..data'));
    await rm(join(dir, '..2026_01_01_00_00_00.1'), { recursive: true });

    await waitFor('the swapped Secret to be applied', () => changes.length === 1);
    expect(serverNames(watcher.current())).toEqual(['delta']);
  });

  it('keeps the last good config while the file is deleted and applies it when it returns', async () => {
    await writeFile(file, configText('alpha'));
    const { watcher, logger, changes } = await startWatching(file);
    await unlink(file);
    await waitFor('the deletion to be reported', () => logger.lines.some((line) => line.level === 'error'));
    expect(logger.lines.find((line) => line.level === 'error')?.msg).toBe(
      `${file}: config file not found; keeping the last good config`,
    );
    expect(serverNames(watcher.current())).toEqual(['alpha']);

    await writeFile(file, configText('epsilon'));
    await waitFor('the restored file to be applied', () => changes.length === 1);
    expect(serverNames(watcher.current())).toEqual(['epsilon']);
  });

  it('notices a change the directory watch cannot see by re-reading the file periodically', async () => {
    // Writing through a hard link in another directory changes the file without any event in
    // the config directory, as on filesystems whose watch events get lost.
    const elsewhere = await mkdtemp(join(tmpdir(), 'mcpgw-config-other-'));
    try {
      await writeFile(file, configText('alpha'));
      await link(file, join(elsewhere, 'same-inode.yaml'));
      const { watcher, changes } = await startWatching(file, { pollIntervalMs: 30, debounceMs: 100 });
      await writeFile(join(elsewhere, 'same-inode.yaml'), configText('zeta'));
      await waitFor('the polled change to be applied', () => changes.length === 1);
      expect(serverNames(watcher.current())).toEqual(['zeta']);
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }
  });

  it('stops calling back once closed', async () => {
    await writeFile(file, configText('alpha'));
    const closed = await startWatching(file);
    const open = await startWatching(file);
    closed.watcher.close();

    await writeFile(file, configText('alpha', 'beta'));
    // The watcher left open sees the edit, which bounds how long the closed one had to react.
    await waitFor('the open watcher to apply the edit', () => open.changes.length === 1);
    expect(closed.changes).toEqual([]);
    expect(serverNames(closed.watcher.current())).toEqual(['alpha']);
  });
});
