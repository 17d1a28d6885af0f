/** `npm run token -- create|revoke|list …`: API tokens in DATA_DIR's database (src/cli/token-command.ts). */
import { runTokenCommand } from '../src/cli/token-command.js';
import { ConfigError, loadConfig } from '../src/config.js';
import { openDatabase } from '../src/storage/db.js';

let dataDir: string;
try {
  dataDir = loadConfig().dataDir;
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(`[dicomql] invalid configuration: ${err.message}`);
  process.exit(2);
}
const database = openDatabase(dataDir);
let code: number;
try {
  code = runTokenCommand(process.argv.slice(2), database.db, { stdout: process.stdout, stderr: process.stderr });
  // The token (or revocation) is on disk before the command ends (synchronous = NORMAL: db.ts).
  await database.walSync.durable();
} finally {
  database.close();
}
process.exitCode = code;
