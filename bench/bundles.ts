/**
 * Size of each Lambda bundle, built with the same esbuild settings as the CDK base function
 * (ESM, node22, minified, AWS SDK bundled), and the time Node takes to import it cold.
 */
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { build } from 'esbuild';
import { round } from './stats';

const HANDLERS_DIR = 'lambdas/handlers';
const REQUIRE_BANNER = "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

export async function measureBundles() {
  const outdir = mkdtempSync(join(tmpdir(), 'payment-outbox-bundles-'));
  const results: Record<string, { kib: number; coldImportMs: number }> = {};
  try {
    for (const file of readdirSync(HANDLERS_DIR).filter((f) => f.endsWith('.ts')).sort()) {
      const name = file.replace(/\.ts$/, '');
      const outfile = join(outdir, `${name}.mjs`);
      await build({
        entryPoints: [join(HANDLERS_DIR, file)],
        outfile,
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node22',
        mainFields: ['module', 'main'],
        minify: true,
        banner: { js: REQUIRE_BANNER },
        logLevel: 'silent',
      });
      // A fresh Node process per import: what a cold start pays to load the module (config errors ignored).
      const probe = join(outdir, `${name}.probe.mjs`);
      writeFileSync(probe, `const t=performance.now();try{await import(${JSON.stringify(outfile)});}catch{}console.log(performance.now()-t);`);
      const samples = [0, 1, 2].map(() => Number(execFileSync(process.execPath, [probe], { env: { ...process.env, AWS_REGION: 'us-east-1' } }).toString().trim()));
      results[name] = { kib: round(statSync(outfile).size / 1024), coldImportMs: round(Math.min(...samples)) };
    }
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
  return results;
}
