/**
 * Size of each Lambda bundle, built with the same esbuild settings as the CDK base function
 * (ESM, node22, minified, AWS SDK bundled), and the time Node takes to import it cold.
 * One bundle per function: every `lambdas/functions/<function>/entry.ts`, named by its folder.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { build } from 'esbuild';
import { round } from './stats';

const FUNCTIONS_DIR = 'lambdas/functions';
/** The banner of the CDK base function (lib/constructs/payment-function.ts ESM_REQUIRE_BANNER). */
const REQUIRE_BANNER = "import { createRequire as __pmoCreateRequire } from 'node:module'; const require = __pmoCreateRequire(import.meta.url);";
/**
 * The probe's whole environment: what a Lambda is given before its own variables (the region), and
 * nothing of the runner's (no NODE_OPTIONS loaders, no runner-only settings).
 */
const PROBE_ENV = { AWS_REGION: 'us-east-1' };

/** `lambdas/functions/<name>/entry.ts` of every function folder that has an entry, by folder name. */
export function functionEntries(dir = FUNCTIONS_DIR): { name: string; entry: string }[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, 'entry.ts')))
    .map((d) => ({ name: d.name, entry: join(dir, d.name, 'entry.ts') }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export async function measureBundles() {
  const outdir = mkdtempSync(join(tmpdir(), 'payment-outbox-bundles-'));
  const results: Record<string, { kib: number; coldImportMs: number }> = {};
  try {
    const entries = functionEntries();
    if (entries.length === 0) throw new Error(`no ${FUNCTIONS_DIR}/*/entry.ts found`);
    for (const { name, entry } of entries) {
      const outfile = join(outdir, `${name}.mjs`);
      await build({
        entryPoints: [entry],
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
      const samples = [0, 1, 2].map(() => Number(execFileSync(process.execPath, [probe], { env: PROBE_ENV }).toString().trim()));
      results[name] = { kib: round(statSync(outfile).size / 1024), coldImportMs: round(Math.min(...samples)) };
    }
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
  return results;
}
