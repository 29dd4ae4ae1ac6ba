/**
 * Process-wide settings of a runner's own process (`npm start`, `npm run chaos`, `npm run bench`),
 * applied once at its start-up: the only place that writes to `process.env`. Functions never read
 * these; they are for libraries that only read the process environment.
 */
export function prepareRunnerProcess(): void {
  // The SDK prints an 8-line notice on every client on Node < 22; the Lambdas run on nodejs22.x.
  if (Number(process.versions.node.split('.')[0]) < 22) process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  // Powertools reads this from the process only: locally, metrics would be EMF lines on stdout.
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
}
