/**
 * `npm run bench`: pure CPU paths, bundle sizes and cold imports, the whole local pipeline, and
 * delivery latency per subscriber (a queue, a healthy webhook, a flaky webhook), and what one confirm costs.
 * Writes bench/results/latest.json and bench/results/latest.md. Numbers, never assertions.
 *
 *   npm run bench -- --payments 500 --concurrency 16 --webhook-payments 100 --flaky-fail-rate 0.3
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { measureBundles } from './bundles';
import { runConfirmCost } from './confirm-cost';
import { runEndToEnd } from './end-to-end';
import { runPureBenchmarks } from './pure';
import { runWebhookDelivery } from './webhook-delivery';
import { prepareRunnerProcess } from '../local/process/runner-process';

prepareRunnerProcess();
const { values } = parseArgs({
  options: {
    payments: { type: 'string', default: '300' },
    concurrency: { type: 'string', default: '16' },
    'webhook-payments': { type: 'string', default: '100' },
    'flaky-fail-rate': { type: 'string', default: '0.3' },
  },
});

const machine = { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', date: new Date().toISOString() };
console.log('pure paths ...');
const pure = runPureBenchmarks();
console.log('bundles ...');
const bundles = await measureBundles();
console.log(`end to end: ${values.payments} payments, concurrency ${values.concurrency} ...`);
const endToEnd = await runEndToEnd({ payments: Number(values.payments), concurrency: Number(values.concurrency) });

const flakyFailRate = Number(values['flaky-fail-rate']);
console.log(`delivery per subscriber: ${values['webhook-payments']} payments, flaky receiver failing ${flakyFailRate * 100} % ...`);
// In this process, after the end-to-end stack has stopped (one stack at a time: each measures an unshared machine).
const webhookDelivery = await runWebhookDelivery({ payments: Number(values['webhook-payments']), concurrency: 8, flakyFailRate });

console.log('confirm cost: 200 confirms one at a time, 200 at concurrency 8 ...');
const confirmCost = await runConfirmCost({ payments: 200, concurrency: 8 });

const results = { machine, pure, bundles, endToEnd, webhookDelivery, confirmCost };
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/latest.json', `${JSON.stringify(results, null, 2)}\n`);

const table = (rows: Record<string, unknown>) => Object.entries(rows).map(([k, v]) => `| ${k} | ${typeof v === 'object' ? JSON.stringify(v) : String(v)} |`).join('\n');
const markdown = `# Benchmark results

${machine.date} — Node ${machine.node}, ${machine.cpus} × ${machine.cpuModel}. Local emulators (DynamoDB Local, fauxqs), not AWS: use the numbers to compare changes, not to size production.

## Pure paths (operations per second)
| measure | value |
| --- | --- |
${table(pure)}

## Lambda bundles (esbuild, minified, AWS SDK bundled; cold import = fastest of 3 fresh Node processes with the function's own environment, handler built)
| function | KiB | cold import ms |
| --- | --- | --- |
${Object.entries(bundles).map(([name, b]) => `| ${name} | ${b.kib} | ${b.coldImportMs}${b.importError ? ` (import failed: ${b.importError})` : ''} |`).join('\n')}

## Whole pipeline on the local stack
| measure | value |
| --- | --- |
${table(endToEnd)}

## Delivery per subscriber (latency from the event's commit; webhook retries use the default backoff: 2 s doubling, full jitter)
| measure | value |
| --- | --- |
${table(webhookDelivery)}

## One confirm (PG attempt recorded first, sandbox PG, answer committed with the event); GET of a payment as the same run's floor
| measure | value |
| --- | --- |
${table({ ...confirmCost })}
`;
writeFileSync('bench/results/latest.md', markdown);
console.log(markdown);
