/**
 * `npm run bench`: pure CPU paths, bundle sizes and cold imports, and the whole local pipeline.
 * Writes bench/results/latest.json and bench/results/latest.md. Numbers, never assertions.
 *
 *   npm run bench -- --payments 500 --concurrency 16
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { measureBundles } from './bundles';
import { runEndToEnd } from './end-to-end';
import { runPureBenchmarks } from './pure';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { values } = parseArgs({ options: { payments: { type: 'string', default: '300' }, concurrency: { type: 'string', default: '16' } } });

const machine = { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', date: new Date().toISOString() };
console.log('pure paths ...');
const pure = runPureBenchmarks();
console.log('bundles ...');
const bundles = await measureBundles();
console.log(`end to end: ${values.payments} payments, concurrency ${values.concurrency} ...`);
const endToEnd = await runEndToEnd({ payments: Number(values.payments), concurrency: Number(values.concurrency) });

const results = { machine, pure, bundles, endToEnd };
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/latest.json', `${JSON.stringify(results, null, 2)}\n`);

const table = (rows: Record<string, unknown>) => Object.entries(rows).map(([k, v]) => `| ${k} | ${typeof v === 'object' ? JSON.stringify(v) : String(v)} |`).join('\n');
const markdown = `# Benchmark results

${machine.date} — Node ${machine.node}, ${machine.cpus} × ${machine.cpuModel}. Local emulators (DynamoDB Local, fauxqs), not AWS: use the numbers to compare changes, not to size production.

## Pure paths (operations per second)
| measure | value |
| --- | --- |
${table(pure)}

## Lambda bundles (esbuild, minified, AWS SDK bundled; cold import = fastest of 3 fresh Node processes)
| handler | KiB | cold import ms |
| --- | --- | --- |
${Object.entries(bundles).map(([name, b]) => `| ${name} | ${b.kib} | ${b.coldImportMs} |`).join('\n')}

## Whole pipeline on the local stack
| measure | value |
| --- | --- |
${table(endToEnd)}
`;
writeFileSync('bench/results/latest.md', markdown);
console.log(markdown);
