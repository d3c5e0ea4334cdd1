import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { GatewayError, parseConfig, type ConfigResult } from '@mcp-gateway/core';
import type { GatewayConfig, Logger } from '@mcp-gateway/core';

/** Quiet time after the last file event before the file is re-read. */
export const DEFAULT_DEBOUNCE_MS = 100;
/** Interval of the fallback check for filesystems whose watch events get lost. */
export const DEFAULT_POLL_INTERVAL_MS = 2000;

/** Options of `watchConfigFile`. */
export interface ConfigWatcherOptions {
  readonly logger: Logger;
  /** Called with each new config after a valid edit that changes it; never for the initial config. */
  readonly onChange: (config: GatewayConfig) => void;
  /** Defaults to DEFAULT_DEBOUNCE_MS. */
  readonly debounceMs?: number;
  /** Defaults to DEFAULT_POLL_INTERVAL_MS. */
  readonly pollIntervalMs?: number;
  /**
   * What the host finds wrong with a config the file format allows (e.g. token verification
   * without an audience): `<field>: <reason>` lines; any makes the file invalid, at start and on reload.
   */
  readonly check?: (config: GatewayConfig) => readonly string[];
}

/** A config file being watched; `current()` is always the last valid config. */
export interface ConfigWatcher {
  current(): GatewayConfig;
  /** Stops watching; no `onChange` call happens afterwards. */
  close(): void;
}

/**
 * Loads the config file and keeps it hot: a valid edit that changes the config becomes
 * current and is passed to `onChange`; an invalid edit or a deleted file is logged and the last
 * good config stays in force. Watches the containing directory, so an editor's atomic
 * rename-over and a Kubernetes Secret volume update (the `..data` symlink swap) are both seen,
 * and re-reads the file every `pollIntervalMs` in case the filesystem drops events. Neither the
 * watch nor the timers keep the process alive.
 * @throws GatewayError CONFIG_INVALID (the promise rejects) when the file is missing, unreadable
 *   or invalid at start, so the CLI can exit before it listens.
 * @see docs/configuration.md
 */
export async function watchConfigFile(path: string, options: ConfigWatcherOptions): Promise<ConfigWatcher> {
  const pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  if (!(pollIntervalMs > 0) || !((options.debounceMs ?? DEFAULT_DEBOUNCE_MS) >= 0)) {
    throw new RangeError('watchConfigFile: pollIntervalMs must be positive and debounceMs not negative');
  }
  const logger = options.logger.child({ configPath: path });
  const text = await readInitialText(path);
  const initial = checked(parseConfig(text, path), path, options.check);
  if (!initial.ok) throw initial.error;
  for (const warning of initial.warnings) logger.warn(warning);
  const watcher = new FileConfigWatcher(path, options, logger, text, initial.config);
  watcher.start(pollIntervalMs);
  return watcher;
}

class FileConfigWatcher implements ConfigWatcher {
  readonly #path: string;
  readonly #directory: string;
  readonly #fileName: string;
  readonly #onChange: (config: GatewayConfig) => void;
  readonly #debounceMs: number;
  readonly #logger: Logger;
  readonly #check: ConfigWatcherOptions['check'];
  #current: GatewayConfig;
  /** Text of the last read; undefined after a failed read, so that any content is looked at again. */
  #lastText: string | undefined;
  #closed = false;
  /** The last read held an invalid config. */
  #broken = false;
  #readProblem: string | undefined;
  #watcher: FSWatcher | undefined;
  #watchProblemLogged = false;
  #debounce: ReturnType<typeof setTimeout> | undefined;
  #poll: ReturnType<typeof setInterval> | undefined;
  #running = false;
  #rerun = false;

  constructor(path: string, options: ConfigWatcherOptions, logger: Logger, text: string, config: GatewayConfig) {
    this.#path = path;
    this.#directory = dirname(resolve(path));
    this.#fileName = basename(path);
    this.#onChange = options.onChange;
    this.#check = options.check;
    this.#debounceMs = options.debounceMs ?? DEFAULT_DEBOUNCE_MS;
    this.#logger = logger;
    this.#lastText = text;
    this.#current = config;
  }

  current(): GatewayConfig {
    return this.#current;
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#debounce);
    clearInterval(this.#poll);
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  start(pollIntervalMs: number): void {
    this.#watch();
    // Also covers an edit made between the first read and the start of the watch.
    this.#schedule();
    this.#poll = setInterval(() => {
      if (this.#watcher === undefined) this.#watch();
      // Through the debounce, so that a poll is unlikely to read a file halfway through a write;
      // a pending debounce is left alone, or a short poll interval would postpone it for ever.
      if (this.#debounce === undefined) this.#schedule();
    }, pollIntervalMs);
    this.#poll.unref();
  }

  #watch(): void {
    try {
      const watcher = watch(this.#directory, { persistent: false }, (_event, changed) => {
        // The file itself (edits, rename-over) or Kubernetes' `..data` link swap; other files in
        // the directory are not ours. Some platforms give no name: check anyway.
        if (changed === null || changed === this.#fileName || changed.startsWith('..')) this.#schedule();
      });
      watcher.on('error', (error) => {
        // E.g. the directory was removed; polling goes on and re-arms the watch when it can.
        this.#logger.warn('watching the config directory failed; polling only', { error: error.message });
        watcher.close();
        if (this.#watcher === watcher) this.#watcher = undefined;
      });
      this.#watcher = watcher;
      this.#watchProblemLogged = false;
    } catch (error) {
      if (!this.#watchProblemLogged)
        this.#logger.warn('cannot watch the config directory; polling only', { error: messageOf(error) });
      this.#watchProblemLogged = true;
    }
  }

  #schedule(): void {
    if (this.#closed) return;
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => {
      this.#debounce = undefined;
      this.#trigger();
    }, this.#debounceMs);
    this.#debounce.unref();
  }

  /** One reload at a time; a trigger during a reload causes one more pass afterwards. */
  #trigger(): void {
    if (this.#closed) return;
    if (this.#running) {
      this.#rerun = true;
      return;
    }
    this.#running = true;
    const loop = async (): Promise<void> => {
      do {
        this.#rerun = false;
        await this.#reload();
      } while (this.#rerun && !this.#closed);
    };
    loop()
      .catch((error: unknown) => this.#logger.error('config reload failed', { error: messageOf(error) }))
      .finally(() => {
        this.#running = false;
      });
  }

  async #reload(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.#path, 'utf8');
    } catch (error) {
      const problem = describeReadError(error);
      // Said once per problem, not on every poll.
      if (problem !== this.#readProblem) this.#logger.error(`${this.#path}: ${problem}; keeping the last good config`);
      this.#readProblem = problem;
      this.#lastText = undefined;
      return;
    }
    this.#readProblem = undefined;
    if (this.#closed || text === this.#lastText) return;
    this.#lastText = text;
    this.#apply(text);
  }

  #apply(text: string): void {
    const result = checked(parseConfig(text, this.#path), this.#path, this.#check);
    if (!result.ok) {
      this.#broken = true;
      this.#logger.error(`invalid config edit, keeping the last good config:\n${result.error.message}`);
      return;
    }
    for (const warning of result.warnings) this.#logger.warn(warning);
    const wasBroken = this.#broken;
    this.#broken = false;
    if (isDeepEqual(result.config, this.#current)) {
      this.#logger[wasBroken ? 'info' : 'debug']('config file changed; the config in force is unchanged');
      return;
    }
    this.#current = result.config;
    const { servers, virtualServers } = result.config;
    this.#logger.info('config reloaded', { servers: servers.length, virtualServers: virtualServers.length });
    try {
      this.#onChange(result.config);
    } catch (error) {
      this.#logger.error('applying the reloaded config failed', { error: messageOf(error) });
    }
  }
}

async function readInitialText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new GatewayError('CONFIG_INVALID', `${path}: ${describeReadError(error)} (check --mcp-gateway-config)`, {
      expose: false,
      cause: error,
    });
  }
}

function describeReadError(error: unknown): string {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
  if (code === 'ENOENT') return 'config file not found';
  if (code === 'EISDIR') return 'is a directory, not a config file';
  if (code === 'EACCES' || code === 'EPERM') return 'config file is not readable (permission denied)';
  return `cannot read the config file (${code ?? messageOf(error)})`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Structural equality of JSON-like values (what parseConfig produces). */
function isDeepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const aRecord = a as Record<string, unknown>;
  const bRecord = b as Record<string, unknown>;
  const keys = Object.keys(aRecord);
  if (keys.length !== Object.keys(bRecord).length) return false;
  return keys.every((key) => Object.hasOwn(bRecord, key) && isDeepEqual(aRecord[key], bRecord[key]));
}

/** A parsed config that the host's check also accepts; the check's issues make it invalid, as the file's own would. */
function checked(result: ConfigResult, path: string, check: ConfigWatcherOptions['check']): ConfigResult {
  if (!result.ok || check === undefined) return result;
  const issues = check(result.config);
  if (issues.length === 0) return result;
  const message = issues.map((issue) => `${path}: ${issue}`).join('\n');
  return { ok: false, error: new GatewayError('CONFIG_INVALID', message, { expose: false }) };
}
