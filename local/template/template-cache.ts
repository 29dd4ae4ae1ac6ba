/**
 * Synthesis takes seconds (aws-cdk-lib import + synth), so the template is cached in the state
 * directory, keyed by a hash of everything it is derived from: lib/, bin/, lambdas/config/
 * (imported by lib/), cdk.json, the aws-cdk-lib version and the stack props. Any edit there
 * re-synthesizes; the cache is never a second source of truth.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createRequire } from 'node:module';
import { REPO_ROOT } from '../paths';
import { synthesizeTemplate, type SynthesizeOptions } from './synthesize';
import type { CfnTemplate } from './types';

/** What lib/ and bin/ import: the stack, the app's subscribers, and the Lambda-side names and rules the stack derives resources from. */
const INPUT_DIRS = ['lib', 'bin', 'lambdas/config', 'lambdas/domain', 'lambdas/webhooks'];
const INPUT_FILES = ['cdk.json'];

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}

/** Hash of the template's inputs. */
export function templateInputsHash(repoRoot = REPO_ROOT, stackProps?: Record<string, unknown>): string {
  const hash = createHash('sha256');
  const files = [...INPUT_DIRS.flatMap((d) => listFiles(join(repoRoot, d))), ...INPUT_FILES.map((f) => join(repoRoot, f))]
    .filter((f) => existsSync(f))
    .sort();
  for (const file of files) {
    hash.update(relative(repoRoot, file));
    hash.update('\0');
    hash.update(readFileSync(file));
    hash.update('\0');
  }
  const require = createRequire(join(repoRoot, 'package.json'));
  const cdkVersion = (require('aws-cdk-lib/package.json') as { version: string }).version;
  hash.update(`aws-cdk-lib@${cdkVersion}\0${stackProps ? JSON.stringify(stackProps) : 'app subscribers (bin/)'}`);
  return hash.digest('hex');
}

export interface CachedTemplate {
  readonly template: CfnTemplate;
  readonly fromCache: boolean;
}

/** The template from `<cacheDir>/template-cache.json` when its inputs are unchanged, else synthesized (and cached). */
export async function loadTemplate(cacheDir: string, options: SynthesizeOptions = {}): Promise<CachedTemplate> {
  const key = templateInputsHash(options.repoRoot, options.stackProps);
  const file = join(cacheDir, 'template-cache.json');
  try {
    const cached = JSON.parse(readFileSync(file, 'utf8')) as { key?: string; template?: CfnTemplate };
    if (cached.key === key && cached.template) return { template: cached.template, fromCache: true };
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
