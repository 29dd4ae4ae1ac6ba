/** Entry point: `tsx tools/toss-local/main.ts --port 3002 --secret-key KEY [...]` (see cli.ts). */
import { runCli } from './cli';

process.exitCode = await runCli(process.argv.slice(2));
