/** `npm start`: load config/herald.yaml, start Herald, stop cleanly on SIGTERM/SIGINT. */
import 'reflect-metadata';
import { loadConfig } from './config/config.loader.js';
import { ConfigError } from './config/config.errors.js';
import { createHerald } from './server.js';

async function main(): Promise<void> {
  let loaded;
  try {
    loaded = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  const herald = await createHerald(loaded);
  process.stdout.write(
    `${JSON.stringify({ level: 'info', msg: 'Herald started', url: herald.url, issuer: loaded.config.issuer, mode: loaded.config.mode, config: loaded.file })}\n`,
  );
  if (loaded.config.mode === 'development') {
    process.stdout.write(`\n  Herald is running at ${loaded.config.issuer}\n  Demo app: ${loaded.config.issuer}/demo\n\n`);
  }
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${JSON.stringify({ level: 'info', msg: 'Herald stopping', signal })}\n`);
    await herald.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((error) => {
  process.stderr.write(`Herald failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
