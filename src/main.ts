/** Entry point: loadConfig() → createApp(config) → listen; graceful close on SIGTERM/SIGINT. */
import { ConfigError, loadConfig } from './config.js';
import { createApp } from './http/app.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`[dicomql] invalid configuration: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  const app = await createApp(config);
  app.server.listen(config.port, config.host, () => {
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    console.log(`[dicomql] GraphQL API and GraphiQL on http://${host}:${port}/graphql (data in ${config.dataDir})`);
  });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`[dicomql] ${signal}: closing`);
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  console.error('[dicomql] failed to start:', err);
  process.exit(1);
});
