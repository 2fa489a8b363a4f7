/* Migration CLI: `node dist/migrations/cli.js run|show` with DATABASE_URL set. Uses the app's own DataSource. */
import 'reflect-metadata';
import { loadConfig, migrate } from '@wharf/core';
import { createDataSource } from './data-source';

async function main(): Promise<void> {
  const cmd = process.argv[2] ?? 'run';
  const config = loadConfig();
  const ds = createDataSource(config.databaseUrl);
  await ds.initialize();
  try {
    if (cmd === 'run') {
      const ran = await migrate(ds);
      console.log(ran.length ? `applied: ${ran.join(', ')}` : 'schema is up to date');
    } else if (cmd === 'show') {
      console.log((await ds.showMigrations()) ? 'pending migrations exist' : 'schema is up to date');
    } else {
      throw new Error(`unknown command "${cmd}" (run|show)`);
    }
  } finally {
    await ds.destroy();
  }
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});
