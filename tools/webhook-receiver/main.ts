/** Entry point: `tsx tools/webhook-receiver/main.ts --port 3001 --secret S [...]` (see cli.ts). */
import { runCli } from './cli';

process.exitCode = await runCli(process.argv.slice(2));
