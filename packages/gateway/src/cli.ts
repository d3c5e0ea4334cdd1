// First: refuses an old Node before any other module of the bundle runs.
import './supported-node.ts';
import { createNodeLogger } from '@mcp-gateway/core/node-logger';
import { HELP_TEXT, parseCli } from './cli-options.ts';
import { runPinsCommand } from './pins-command.ts';
import { runGateway } from './run-gateway.ts';
import { GATEWAY_VERSION } from './version.ts';

async function main(): Promise<void> {
  const parsed = parseCli(process.argv.slice(2), process.env);
  if (parsed.kind === 'help') {
    process.stdout.write(HELP_TEXT);
    return;
  }
  if (parsed.kind === 'version') {
    process.stdout.write(`mcp-gateway ${GATEWAY_VERSION}\n`);
    return;
  }
  if (parsed.kind === 'error') {
    process.stderr.write(`mcp-gateway: ${parsed.message}\n`);
    process.exitCode = 2;
    return;
  }
  if (parsed.kind === 'pins') {
    const write = (stream: NodeJS.WriteStream) => (text: string) => void stream.write(text);
    process.exitCode = await runPinsCommand(parsed.command, { out: write(process.stdout), err: write(process.stderr) });
    return;
  }
  const logger = createNodeLogger({ level: parsed.options.logLevel, service: 'mcp-gateway' });
  let running;
  try {
    running = await runGateway(parsed.options, logger);
  } catch (error) {
    process.stderr.write(`mcp-gateway: ${(error as Error).message}\n`);
    process.exitCode = 1;
    return;
  }
  const shutdown = (signal: string) => {
    logger.info('shutting down', { signal });
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    running.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

await main();
