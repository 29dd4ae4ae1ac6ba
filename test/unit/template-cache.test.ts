import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadTemplate, templateInputs, templateInputsHash } from '../../local/template/template-cache';
import { ENTRY_METADATA_KEY, type CfnTemplate } from '../../local/template/types';

/**
 * A tiny repository: bin/payment-outbox.ts -> lib/a.ts -> lambdas/x/b.ts, plus a file nothing imports,
 * cdk.json, package.json and an installed aws-cdk-lib (its package.json only: packages stay external).
 */
let root: string;

function write(path: string, text: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'template-cache-test-'));
  write('package.json', JSON.stringify({ name: 'fixture', type: 'module' }));
  write('cdk.json', JSON.stringify({ app: 'npx tsx bin/payment-outbox.ts', context: { flag: true } }));
  write('node_modules/aws-cdk-lib/package.json', JSON.stringify({ name: 'aws-cdk-lib', version: '2.0.0' }));
  write('bin/payment-outbox.ts', "import { a } from '../lib/a.ts';\nconsole.log(a);\n");
  write('lib/a.ts', "import { readFileSync } from 'node:fs';\nimport * as sqs from 'aws-cdk-lib/aws-sqs';\nimport { b } from '../lambdas/x/b.ts';\nexport const a = [b, sqs, readFileSync];\n");
  write('lambdas/x/b.ts', "export const b = 'queue-name';\n");
  write('lambdas/x/handler.ts', 'export const handler = async () => 1;\n');
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('templateInputs', () => {
  it('is the import graph of the app: local files it imports, and the packages they import', async () => {
    expect(await templateInputs(root)).toEqual({
      files: ['bin/payment-outbox.ts', 'lambdas/x/b.ts', 'lib/a.ts'],
      packages: ['aws-cdk-lib'],
    });
  });
});

describe('templateInputsHash', () => {
  it('is stable while nothing changes', async () => {
    expect(await templateInputsHash(root)).toBe(await templateInputsHash(root));
  });

  it('changes when an imported file changes', async () => {
    const before = await templateInputsHash(root);
    write('lambdas/x/b.ts', "export const b = 'other-queue-name';\n");
    expect(await templateInputsHash(root)).not.toBe(before);
  });

  it('does not change when a file the app does not import changes', async () => {
    const before = await templateInputsHash(root);
    write('lambdas/x/handler.ts', 'export const handler = async () => 2;\n');
    write('lambdas/y/new.ts', 'export const unused = true;\n');
    expect(await templateInputsHash(root)).toBe(before);
  });

  it('follows a moved file: its new path is a key input, its old location no longer is', async () => {
    const before = await templateInputsHash(root);
    rmSync(join(root, 'lambdas/x/b.ts'));
    write('lambdas/y/b.ts', "export const b = 'queue-name';\n");
    write('lib/a.ts', "import { readFileSync } from 'node:fs';\nimport * as sqs from 'aws-cdk-lib/aws-sqs';\nimport { b } from '../lambdas/y/b.ts';\nexport const a = [b, sqs, readFileSync];\n");
    const moved = await templateInputsHash(root);
    expect(moved).not.toBe(before);
    expect((await templateInputs(root)).files).toEqual(['bin/payment-outbox.ts', 'lambdas/y/b.ts', 'lib/a.ts']);

    // The moved file is still tracked where it now lives (no folder list to update) ...
    write('lambdas/y/b.ts', "export const b = 'renamed-queue';\n");
    const edited = await templateInputsHash(root);
    expect(edited).not.toBe(moved);
    // ... and a leftover at the old path is not an input.
    write('lambdas/x/b.ts', "export const b = 'stale copy';\n");
    expect(await templateInputsHash(root)).toBe(edited);
  });

  it('changes with cdk.json, the aws-cdk-lib version and the stack props', async () => {
    const before = await templateInputsHash(root);
    write('cdk.json', JSON.stringify({ app: 'npx tsx bin/payment-outbox.ts', context: { flag: false } }));
    const afterCdkJson = await templateInputsHash(root);
    expect(afterCdkJson).not.toBe(before);

    write('node_modules/aws-cdk-lib/package.json', JSON.stringify({ name: 'aws-cdk-lib', version: '2.0.1' }));
    const afterUpgrade = await templateInputsHash(root);
    expect(afterUpgrade).not.toBe(afterCdkJson);

    expect(await templateInputsHash(root, { subscribers: [] })).not.toBe(afterUpgrade);
    expect(await templateInputsHash(root, { subscribers: [] })).not.toBe(await templateInputsHash(root, { subscribers: ['q'] }));
  });
});

describe('loadTemplate', () => {
  const template = (entry: string): CfnTemplate => ({
    Resources: { Fn: { Type: 'AWS::Lambda::Function', Metadata: { [ENTRY_METADATA_KEY]: entry } } },
  });

  function cache(t: CfnTemplate, key: string): string {
    const cacheDir = join(root, '.local');
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(join(cacheDir, 'template-cache.json'), JSON.stringify({ key, template: t }));
    return cacheDir;
  }

  it('returns the cached template while its inputs are unchanged', async () => {
    const cacheDir = cache(template('lambdas/x/handler.ts'), await templateInputsHash(root));
    expect(await loadTemplate(cacheDir, { repoRoot: root })).toEqual({ template: template('lambdas/x/handler.ts'), fromCache: true });
  });

  it('re-synthesizes when an input changed', async () => {
    const cacheDir = cache(template('lambdas/x/handler.ts'), await templateInputsHash(root));
    write('lambdas/x/b.ts', "export const b = 'changed';\n");
    // The fixture has no stack module, so synthesis fails: proof that the cache was not used.
    await expect(loadTemplate(cacheDir, { repoRoot: root })).rejects.toThrow('lib/payment-outbox-stack.ts not found');
  });

  it('re-synthesizes when a cached handler entry no longer exists (moved handler, entry string not updated)', async () => {
    const cacheDir = cache(template('lambdas/x/handler.ts'), await templateInputsHash(root));
    rmSync(join(root, 'lambdas/x/handler.ts'));
    await expect(loadTemplate(cacheDir, { repoRoot: root })).rejects.toThrow('lib/payment-outbox-stack.ts not found');
  });
});
