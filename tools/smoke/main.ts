/** Entry point: `npm run smoke -- --stack NAME | --local` (see cli.ts). */
import { runSmokeCli } from './cli';

process.exitCode = await runSmokeCli(process.argv.slice(2));
