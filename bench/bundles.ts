/**
 * Size of each Lambda bundle, built with the esbuild options the CDK base function deploys
 * (FUNCTION_BUNDLE_OPTIONS of lib/constructs/function-bundling.ts: ESM, node22, minified, AWS SDK
 * bundled), and the time Node takes to import it cold. One bundle per function: every
 * `lambdas/functions/<function>/entry.ts`, named by its folder. Each build's esbuild metafile gives
 * the heaviest packages of the bundle (`heaviest`), to show where the bytes are.
 *
 * The cold import runs in a fresh Node process whose whole environment is what the Lambda would
 * be given: AWS_REGION and the function's own variables from the template (resources as AWS-shaped
 * names, URLs and ARNs), nothing of this process. So the entry builds its handler (configuration,
 * SDK clients, logger, metrics) as on a cold start, instead of stopping at a missing variable.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { FUNCTION_BUNDLE_OPTIONS } from '../lib/constructs/function-bundling';
import { REPO_ROOT } from '../lib/repo-root';
import { DEFAULT_STATE_DIR } from '../local/paths';
import { LOCAL_ACCOUNT_ID, resolveString, type LocalRegistry } from '../local/template/intrinsics';
import { readTemplate, type FunctionSpec, type LocalModel } from '../local/template/resolve';
import { loadTemplate } from '../local/template/template-cache';
import type { CfnTemplate } from '../local/template/types';
import { round } from './stats';

const FUNCTIONS_DIR = 'lambdas/functions';
const REGION = 'us-east-1';
/** How many of a bundle's heaviest packages its measure lists. */
const HEAVIEST_LISTED = 8;
/**
 * Template variables the probe leaves out: NODE_OPTIONS (`--enable-source-maps`) would change how
 * this Node runs, and the bundle measured here has no source map.
 */
const NOT_FOR_THE_PROBE = new Set(['NODE_OPTIONS']);
/**
 * Lambda runs nodejs22.x, on which the SDK prints no Node-version notice; on an older local Node it
 * would print one per client (and spend the time doing so), so the probe turns it off there.
 */
const SDK_NOTICE_OFF: Record<string, string> =
  Number(process.versions.node.split('.')[0]) < 22 ? { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } : {};

export interface BundleMeasure {
  readonly kib: number;
  /** Fastest of 3 fresh Node processes: import of the bundle, its handler built. */
  readonly coldImportMs: number;
  /** Why the import failed (it is then timed up to the failure). Absent when the handler was built. */
  readonly importError?: string;
  /** The bundle's heaviest packages (or repository folders), KiB of minified output each, heaviest first. */
  readonly heaviest: Readonly<Record<string, number>>;
}

/**
 * KiB of output per package (`zod`, `@smithy/core/protocols` for a package's submodule) or
 * repository folder (`lambdas/domain`), from the build's metafile; the `top` heaviest.
 */
export function heaviestInputs(metafile: Metafile, top = HEAVIEST_LISTED): Record<string, number> {
  const bytes = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [file, input] of Object.entries(output.inputs)) {
      const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(file);
      const submodule = pkg ? /(?:^|\/)submodules\/([^/]+)\//.exec(pkg[2] ?? '') : null;
      const key = pkg ? `${pkg[1]}${submodule ? `/${submodule[1]}` : ''}` : file.split('/').slice(0, 2).join('/');
      bytes.set(key, (bytes.get(key) ?? 0) + input.bytesInOutput);
    }
  }
  return Object.fromEntries(
    [...bytes]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([key, size]) => [key, round(size / 1024)]),
  );
}

/** `lambdas/functions/<name>/entry.ts` of every function folder that has an entry, by folder name. */
export function functionEntries(dir = FUNCTIONS_DIR): { name: string; entry: string }[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, 'entry.ts')))
    .map((d) => ({ name: d.name, entry: `${dir}/${d.name}/entry.ts` }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Resources as a deployed stack names them (AWS-shaped; nothing is called at import). */
export function awsShapedRegistry(model: LocalModel, template: CfnTemplate): LocalRegistry {
  const arn = (service: string, resource: string) => `arn:aws:${service}:${REGION}:${LOCAL_ACCOUNT_ID}:${resource}`;
  return {
    region: REGION,
    stackName: 'PaymentOutboxStack',
    tables: new Map(
      model.tables.map((t) => [
        t.logicalId,
        { tableName: t.tableName, arn: arn('dynamodb', `table/${t.tableName}`), streamArn: arn('dynamodb', `table/${t.tableName}/stream/bench`) },
      ]),
    ),
    queues: new Map(
      model.queues.map((q) => [q.logicalId, { queueName: q.queueName, url: `https://sqs.${REGION}.amazonaws.com/${LOCAL_ACCOUNT_ID}/${q.queueName}`, arn: arn('sqs', q.queueName) }]),
    ),
    topics: new Map(model.topics.map((t) => [t.logicalId, { topicName: t.topicName, arn: arn('sns', t.topicName) }])),
    functions: new Map(model.functions.map((f) => [f.logicalId, { functionName: f.logicalId, arn: arn('lambda', `function:${f.logicalId}`) }])),
    resourceTypes: Object.fromEntries(Object.entries(template.Resources).map(([id, r]) => [id, r.Type])),
  };
}

/** The process environment the probe of `spec` runs with: AWS_REGION and the function's own variables, resolved. */
export function lambdaEnvironment(spec: FunctionSpec | undefined, registry: LocalRegistry): Record<string, string> {
  const env: Record<string, string> = { AWS_REGION: REGION, ...SDK_NOTICE_OFF };
  for (const [name, value] of Object.entries(spec?.environment ?? {})) {
    if (!NOT_FOR_THE_PROBE.has(name)) env[name] = resolveString(value, registry, `${spec?.logicalId} environment ${name}`);
  }
  return env;
}

/** One cold import of a bundle. */
export interface ColdImport {
  /** From the import's start until its handler was built (or the import failed). */
  readonly ms: number;
  /** Why the import failed, or why it exports no handler; absent when the handler was built. */
  readonly error?: string;
}

/**
 * Imports `bundleFile` in a fresh Node process whose whole environment is `env` (what a cold start
 * pays to load the module and build its handler), and checks that it exports `exportName` as a function.
 */
export function coldImport(bundleFile: string, exportName: string, env: Record<string, string>): ColdImport {
  const dir = mkdtempSync(join(tmpdir(), 'payment-outbox-probe-'));
  try {
    const probe = join(dir, 'probe.mjs');
    writeFileSync(
      probe,
      `const t=performance.now();let error;` +
        `try{const m=await import(${JSON.stringify(pathToFileURL(bundleFile).href)});if(typeof m[${JSON.stringify(exportName)}]!=='function')error='no ${exportName} export';}` +
        `catch(e){error=String(e?.message??e);}` +
        `console.log(JSON.stringify({ms:performance.now()-t,error}));`,
    );
    return JSON.parse(execFileSync(process.execPath, [probe], { env, encoding: 'utf8' }).trim().split('\n').at(-1) ?? '{}') as ColdImport;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function measureBundles(): Promise<Record<string, BundleMeasure>> {
  const entries = functionEntries();
  if (entries.length === 0) throw new Error(`no ${FUNCTIONS_DIR}/*/entry.ts found`);
  const { template } = await loadTemplate(DEFAULT_STATE_DIR);
  const model = readTemplate(template);
  const registry = awsShapedRegistry(model, template);
  const outdir = mkdtempSync(join(tmpdir(), 'payment-outbox-bundles-'));
  const results: Record<string, BundleMeasure> = {};
  try {
    for (const { name, entry } of entries) {
      // Several functions may share an entry (one dispatcher per webhook subscriber): any one's variables will do.
      const spec = model.functions.find((f) => f.entry === entry);
      if (spec === undefined) console.warn(`  ${name}: ${entry} is in no function of the template; its probe gets AWS_REGION only`);
      const outfile = join(outdir, `${name}.mjs`);
      // esbuild's working directory is the repository root, as in the CDK's local bundling (the aliases' paths are relative to it).
      const { metafile } = await build({ ...FUNCTION_BUNDLE_OPTIONS, absWorkingDir: REPO_ROOT, entryPoints: [entry], outfile, metafile: true, logLevel: 'silent' });
      const env = lambdaEnvironment(spec, registry);
      const samples = [0, 1, 2].map(() => coldImport(outfile, spec?.exportName ?? 'handler', env));
      const importError = samples.find((s) => s.error !== undefined)?.error;
      if (importError !== undefined) console.warn(`  ${name}: import failed: ${importError}`);
      results[name] = {
        kib: round(statSync(outfile).size / 1024),
        coldImportMs: round(Math.min(...samples.map((s) => s.ms))),
        ...(importError !== undefined && { importError }),
        heaviest: heaviestInputs(metafile),
      };
    }
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
  return results;
}
