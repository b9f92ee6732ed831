/**
 * Composition root: config → build → start → signals. Exit codes: 0 clean
 * shutdown, 78 invalid configuration, 1 unexpected fatal error.
 */
import { loadConfig } from './config.js';
import { ConfigError } from './errors.js';
import { createLogger } from './log.js';
import { createApp } from './app.js';
import { installSignalHandlers } from './lifecycle/signals.js';
import { guardInspector } from './lifecycle/inspector-guard.js';

const EXIT_CONFIG = 78;

function main(): void {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const line of err.problems) process.stderr.write(`outrigger: invalid configuration: ${line}\n`);
      process.exit(EXIT_CONFIG);
    }
    throw err;
  }
  const log = createLogger(config.logLevel);
  const app = createApp(config, log);
  const fatal = (err: unknown, what: string) => {
    log.logger.fatal({ err }, what);
    log.flushSync();
    process.exit(1);
  };
  process.on('uncaughtException', (err) => fatal(err, 'uncaught exception'));
  process.on('unhandledRejection', (err) => fatal(err, 'unhandled rejection'));
  installSignalHandlers({ shutdown: app.shutdown, reloadables: app.reloadables, logger: log.logger, exit: (code) => process.exit(code) });
  guardInspector(process.execArgv, process.env.NODE_OPTIONS, log.logger);
  app.start().catch((err: NodeJS.ErrnoException & { hostname?: string }) => {
    // A listener host that is a valid name but does not resolve: a configuration error too.
    const unresolved = err.syscall === 'getaddrinfo' ? [['PROXY_HOST', config.proxyHost], ['ADMIN_HOST', config.adminHost]].find(([, h]) => h === err.hostname) : undefined;
    if (unresolved !== undefined) {
      process.stderr.write(`outrigger: invalid configuration: ${unresolved[0]}: "${err.hostname}" does not resolve (${err.code})\n`);
      log.flushSync();
      process.exit(EXIT_CONFIG);
    }
    if (err.code === 'EADDRINUSE' || err.code === 'EACCES' || err.code === 'EADDRNOTAVAIL') {
      log.logger.fatal({ code: err.code, address: (err as { address?: string }).address, port: (err as { port?: number }).port }, 'cannot listen');
      log.flushSync();
      process.exit(1);
    }
    fatal(err, 'startup failed');
  });
}

main();
