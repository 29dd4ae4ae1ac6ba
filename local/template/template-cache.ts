/**
 * Synthesis takes seconds (aws-cdk-lib import + synth), so the template is cached in the state
 * directory, keyed by a hash of everything it is derived from. The source part of the key is not a
 * hand-kept folder list: it is the import graph of the CDK app (bin/payment-outbox.ts, plus the
 * modules synthesize.ts loads itself), as esbuild resolves it, so the key covers exactly the files
 * the app really imports, wherever they live. Moving or splitting code (e.g. under lambdas/) cannot
 * make the cache stale: a moved file changes the importer and its own path, both of which are hashed.
 *
 * Key: every local file of that graph (repo-relative path + contents), cdk.json (context / feature
 * flags), tsconfig.json (how that TypeScript is compiled), the version of every package the graph
 * imports (aws-cdk-lib always), the absolute repository root (the skipped-bundling asset hashes
 * derive from absolute entry paths) and the stack props. Handler sources are not inputs unless lib/
 * imports them: synthesis skips asset bundling (`aws:cdk:bundling-stacks: []`), so asset hashes come
 * from construct ids and bundling options, not from file contents. What a cached template still
 * depends on outside the key, the existence of its handler entries (paths are strings in lib/, not
 * imports), is checked on every cache hit; a missing entry re-synthesizes, so synthesis reports it.
 * The cache is never a second source of truth.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { build } from 'esbuild';
import { REPO_ROOT } from '../paths';
import { APP_SUBSCRIBERS_MODULE, STACK_MODULE, synthesizeTemplate, type SynthesizeOptions } from './synthesize';
import { ENTRY_METADATA_KEY, type CfnTemplate } from './types';

/** The CDK app (what `cdk synth` runs, per cdk.json). The root of the template's import graph. */
export const APP_ENTRY = 'bin/payment-outbox.ts';

/** Roots of the import graph: the app, and the modules synthesize.ts imports directly (the app imports them too). */
const GRAPH_ENTRIES = [APP_ENTRY, STACK_MODULE, APP_SUBSCRIBERS_MODULE];

/** Files outside the graph that change the template (or how the graph's TypeScript compiles). */
const CONFIG_FILES = ['cdk.json', 'tsconfig.json'];

/** Packages whose version is always part of the key (synthesize.ts imports aws-cdk-lib itself). */
const ALWAYS_VERSIONED = ['aws-cdk-lib'];

const NODE_BUILTINS = new Set(builtinModules);

/** Package name of a bare specifier (`aws-cdk-lib/aws-sqs` -> `aws-cdk-lib`, `@a/b/c` -> `@a/b`), or undefined for built-ins / non-packages. */
function packageName(specifier: string): string | undefined {
  if (specifier.startsWith('node:') || specifier.startsWith('.') || isAbsolute(specifier)) return undefined;
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
  return name && !NODE_BUILTINS.has(name) ? name : undefined;
}

/** Version of `name` as Node would resolve it from `repoRoot` (node_modules lookup; independent of the package's `exports`). */
function packageVersion(repoRoot: string, name: string): string {
  const lookup = createRequire(join(repoRoot, 'package.json')).resolve.paths(name) ?? [];
  for (const dir of lookup) {
    const manifest = join(dir, name, 'package.json');
    if (existsSync(manifest)) return (JSON.parse(readFileSync(manifest, 'utf8')) as { version?: string }).version ?? 'unversioned';
  }
  return 'not installed';
}

/** The template's source inputs: repo-relative local files of the app's import graph, and the packages it imports. */
export interface TemplateInputs {
  /** Repo-relative paths (`/`-separated), sorted. */
  readonly files: readonly string[];
  /** Bare package names imported by those files, plus {@link ALWAYS_VERSIONED}, sorted. */
  readonly packages: readonly string[];
}

/** The import graph of the CDK app, as esbuild resolves it (packages external, nothing written). */
export async function templateInputs(repoRoot = REPO_ROOT): Promise<TemplateInputs> {
  const root = resolve(repoRoot);
  const entryPoints = GRAPH_ENTRIES.filter((entry) => existsSync(join(root, entry)));
  const files = new Set<string>();
  const packages = new Set(ALWAYS_VERSIONED);
  if (entryPoints.length > 0) {
    const { metafile } = await build({
      absWorkingDir: root,
      entryPoints,
      bundle: true,
      write: false, // only the metafile is read; outdir is required for several entries, nothing is written there
      outdir: '.template-inputs',
      metafile: true,
      platform: 'node',
      format: 'esm',
      packages: 'external',
      logLevel: 'silent',
    });
    for (const [path, input] of Object.entries(metafile.inputs)) {
      // Metafile input paths are relative to absWorkingDir; skip virtual modules (`<define:...>`, `ns:path`).
      const file = resolve(root, path);
      if (existsSync(file) && statSync(file).isFile()) files.add(relative(root, file).split(sep).join('/'));
      for (const imported of input.imports) {
        const name = imported.external ? packageName(imported.path) : undefined;
        if (name) packages.add(name);
      }
    }
  }
  return { files: [...files].sort(), packages: [...packages].sort() };
}

/** Hash of the template's inputs (see the module comment). Builds the app's import graph: tens of milliseconds. */
export async function templateInputsHash(
  repoRoot = REPO_ROOT,
  stackProps?: Record<string, unknown>,
  appStackPropsOverrides?: Record<string, unknown>,
): Promise<string> {
  const root = resolve(repoRoot);
  const { files, packages } = await templateInputs(root);
  const hash = createHash('sha256');
  const configFiles = CONFIG_FILES.filter((f) => existsSync(join(root, f)));
  for (const file of [...files, ...configFiles]) {
    hash.update(`file\0${file}\0`);
    hash.update(readFileSync(join(root, file)));
    hash.update('\0');
  }
  for (const name of packages) hash.update(`package\0${name}@${packageVersion(root, name)}\0`);
  hash.update(`root\0${root}\0`);
  hash.update(`props\0${stackProps ? JSON.stringify(stackProps) : `app subscribers (bin/) + ${JSON.stringify(appStackPropsOverrides ?? {})}`}`);
  return hash.digest('hex');
}

/** Handler entries (Metadata `payment-outbox:entry`) of `template` that do not exist under `repoRoot`. */
function missingEntries(template: CfnTemplate, repoRoot: string): string[] {
  return Object.values(template.Resources ?? {})
    .map((resource) => resource.Metadata?.[ENTRY_METADATA_KEY])
    .filter((entry): entry is string => typeof entry === 'string' && !existsSync(join(repoRoot, entry)));
}

export interface CachedTemplate {
  readonly template: CfnTemplate;
  readonly fromCache: boolean;
}

/** The template from `<cacheDir>/template-cache.json` when its inputs are unchanged, else synthesized (and cached). */
export async function loadTemplate(cacheDir: string, options: SynthesizeOptions = {}): Promise<CachedTemplate> {
  const repoRoot = options.repoRoot ?? REPO_ROOT;
  const key = await templateInputsHash(repoRoot, options.stackProps, options.appStackPropsOverrides);
  // One file per variant of the app's props, so switching PGs does not evict the other's template.
  const variant = !options.stackProps && options.appStackPropsOverrides ? `-${createHash('sha256').update(JSON.stringify(options.appStackPropsOverrides)).digest('hex').slice(0, 12)}` : '';
  const file = join(cacheDir, `template-cache${variant}.json`);
  try {
    const cached = JSON.parse(readFileSync(file, 'utf8')) as { key?: string; template?: CfnTemplate };
    // A moved handler whose entry string was not updated: re-synthesize, which reports the missing entry.
    if (cached.key === key && cached.template && missingEntries(cached.template, repoRoot).length === 0) {
      return { template: cached.template, fromCache: true };
    }
  } catch {
    // no cache yet
  }
  const template = await synthesizeTemplate(options);
  mkdirSync(cacheDir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ key, template }));
  renameSync(tmp, file);
  return { template, fromCache: false };
}
