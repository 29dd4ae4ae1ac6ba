/** Port checks done before anything binds, so a busy port is one clear error line. */
import { createServer } from 'node:net';
import { LocalStartupError } from '../errors';

/** True when nothing listens on `port` (checked on all interfaces, as the emulators bind). */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A port that was free a moment ago (for emulators that cannot bind port 0 themselves). */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Throws a one-line error naming the variable to change when `port` is taken. */
export async function assertPortFree(port: number, what: string, envName: string): Promise<void> {
  if (port === 0) return;
  if (!(await isPortFree(port))) {
    throw new LocalStartupError(`port ${port} (${what}) is already in use by another process; stop it or set ${envName} to another port`);
  }
}
