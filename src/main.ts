/** Entry point: loadConfig() → createApp(config) → listen; graceful close on SIGTERM/SIGINT. */
import { ConfigError, loadConfig } from './config.js';
import { createApp } from './http/app.js';
import { serializeError } from './observability/logger.js';

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
  // graphql-upload-ts (fs-capacitor) spools each upload to os.tmpdir() and takes no folder option;
  // os.tmpdir() reads TMPDIR on every call. Spooled into DATA_DIR, an upload is adopted as a blob by
  // a hard link (never copied across file systems, e.g. from a tmpfs /tmp), and what a crash leaves
  // of uploads in flight (patient data) is removed by the next startup instead of staying in /tmp.
  process.env.TMPDIR = app.uploadSpoolDir;
  app.server.listen(config.port, config.host, () => {
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    app.logger.info({ dataDir: config.dataDir }, `GraphQL API and GraphiQL on http://${host}:${port}/graphql`);
  });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.logger.info({ signal }, `${signal}: closing`);
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        app.logger.error({ err: serializeError(err, config.logPatientData) }, 'close failed');
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
