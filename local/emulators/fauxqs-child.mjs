// Runs the fauxqs SQS emulator in its own process (started by sqs-emulator.ts over IPC).
// Plain JavaScript so that it starts with `node` alone, without a TypeScript loader.
// It exits when its parent disconnects, so a crashed runner never leaves it behind.
import { startFauxqs } from 'fauxqs';

const port = Number(process.env.FAUXQS_PORT ?? '4566');
const region = process.env.FAUXQS_DEFAULT_REGION ?? 'us-east-1';

let server;
try {
  server = await startFauxqs({ port, logger: false, defaultRegion: region });
} catch (error) {
  process.send?.({ type: 'error', code: error?.code ?? 'UNKNOWN', message: String(error?.message ?? error) });
  process.exit(1);
}

process.send?.({ type: 'ready', port: server.port });

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  try {
    await server.stop();
  } finally {
    process.exit(0);
  }
}
process.on('disconnect', stop);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
