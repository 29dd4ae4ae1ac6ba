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
import { costPerMillionPayments } from './cost';
import { runEndToEnd } from './end-to-end';
import { runPureBenchmarks } from './pure';
import { measureRelaySimulation } from './relay-simulation';
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
const { measured, ...endToEnd } = await runEndToEnd({ payments: Number(values.payments), concurrency: Number(values.concurrency) });
// From the same run's counts: what a million card payments would cost on AWS us-east-1.
const cost = costPerMillionPayments({
  payments: endToEnd.payments,
  apiRequests: endToEnd.apiRequests,
  subscriberQueues: 2,
  eventsCommitted: endToEnd.eventsCommitted,
  requests: measured.requests,
  functions: measured.functions,
  excludedTables: measured.excludedTables,
});
console.log('relay simulation: one shard, 20 ms per broker call, 5 ms per DynamoDB call ...');
const relaySimulation = await measureRelaySimulation();

const flakyFailRate = Number(values['flaky-fail-rate']);
console.log(`delivery per subscriber: ${values['webhook-payments']} payments, flaky receiver failing ${flakyFailRate * 100} % ...`);
// In this process, after the end-to-end stack has stopped (one stack at a time: each measures an unshared machine).
const webhookDelivery = await runWebhookDelivery({ payments: Number(values['webhook-payments']), concurrency: 8, flakyFailRate });

console.log('confirm cost: 200 confirms one at a time, 200 at concurrency 8 ...');
const confirmCost = await runConfirmCost({ payments: 200, concurrency: 8 });

const results = { machine, pure, bundles, endToEnd, relaySimulation, cost, webhookDelivery, confirmCost };
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

## Relay simulation (the relay use case on one shard's records, batches of 100, against in-memory ports with fixed latencies)
| measure | value |
| --- | --- |
${table({ ...relaySimulation })}

## Cost on AWS us-east-1, US dollars per 1 million card payments (create + confirm), from this run's request counts
Total: **$${cost.usdPerMillionPayments}** (DynamoDB units: ${cost.unitsSource}).

| part | US$ | by service |
| --- | --- | --- |
${Object.entries(cost.byPart).map(([part, usd]) => `| ${part} | ${usd} | ${JSON.stringify(cost.byPartAndService[part as keyof typeof cost.byPartAndService])} |`).join('\n')}

| service | US$ |
| --- | --- |
${table(cost.byService)}

Prices (us-east-1 list prices; source and date read):

| price | US$ per million units | unit | source | read |
| --- | --- | --- | --- | --- |
${Object.entries(cost.prices).map(([name, p]) => `| ${name} | ${p.usd === null ? 'not priced' : Number((p.usd * 1e6).toPrecision(6))} | ${p.unit} | ${p.source}${'note' in p ? ` (${p.note})` : ''} | ${p.read} |`).join('\n')}

Assumptions:
${cost.assumptions.map((line) => `- ${line}`).join('\n')}

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
