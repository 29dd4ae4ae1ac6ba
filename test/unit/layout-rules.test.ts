/**
 * The layout's rules, checked on the source: the domain is pure, ports are interfaces over the
 * domain, and every deployed function is a two-line entry over a factory in its own folder.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../lib/repo-root';

const filesIn = (dir: string): string[] =>
  readdirSync(join(REPO_ROOT, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesIn(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
const importsOf = (file: string): string[] =>
  [...readFileSync(join(REPO_ROOT, file), 'utf8').matchAll(/^(?:import|export)[^'"]*from '([^']+)'/gm)].map((m) => m[1] as string);

describe('layout rules', () => {
  it('keeps lambdas/domain pure: only zod (and its subpaths: zod/mini, zod/locales), node built-ins and other domain modules', () => {
    for (const file of filesIn('lambdas/domain')) {
      for (const specifier of importsOf(file)) {
        expect(specifier.startsWith('./') || specifier === 'zod' || specifier.startsWith('zod/') || specifier.startsWith('node:'), `${file} imports ${specifier}`).toBe(true);
      }
    }
  });

  it('keeps lambdas/ports to interfaces over the domain', () => {
    for (const file of filesIn('lambdas/ports')) {
      for (const specifier of importsOf(file)) {
        expect(specifier.startsWith('../domain/') || specifier.startsWith('./'), `${file} imports ${specifier}`).toBe(true);
      }
      expect(readFileSync(join(REPO_ROOT, file), 'utf8'), file).not.toMatch(/^export (const|function|class) /m);
    }
  });

  it('gives every deployed function a folder with a two-line entry over the factory next to it', () => {
    const folders = readdirSync(join(REPO_ROOT, 'lambdas/functions'), { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && entry.name !== 'shared')
      .map((entry) => entry.name);
    expect(folders.length).toBeGreaterThan(0);
    for (const name of folders) {
      const code = readFileSync(join(REPO_ROOT, 'lambdas/functions', name, 'entry.ts'), 'utf8')
        .split('\n')
        .filter((line) => line.trim() !== '' && !line.startsWith('import '));
      // The handler over the factory, with the SDK clients the function uses (platform/lambda-entry.ts).
      expect(code, name).toEqual([expect.stringMatching(/^export const handler = lambdaHandler\(\w+, \{ \w+: \w+(, \w+: \w+)* \}\);$/)]);
      expect(readFileSync(join(REPO_ROOT, 'lambdas/functions', name, `${name}.ts`), 'utf8'), name).toMatch(/defineFunction\(/);
    }
  });

  it('keeps packages/consumer/src to re-exports of the repository’s modules (one source of truth), the main entry without the AWS SDK', () => {
    const files = filesIn('packages/consumer/src');
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const code = readFileSync(join(REPO_ROOT, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
      expect(code, file).not.toMatch(/^(?:const|let|function|class|async|interface|type\s+\w+\s*=|export\s+(?:const|let|function|class|async|interface|default))/m);
      for (const specifier of importsOf(file)) expect(specifier.startsWith('../../../lambdas/'), `${file} imports ${specifier}`).toBe(true);
    }
    const mainEntryModules = importsOf('packages/consumer/src/index.ts');
    expect(mainEntryModules.filter((specifier) => specifier.includes('/adapters/'))).toEqual([]);
  });

  it('reads process.env only in the Lambda entry helper', () => {
    const readers = filesIn('lambdas').filter((file) => /process\.env/.test(readFileSync(join(REPO_ROOT, file), 'utf8').replace(/^\s*(\*|\/\/).*$/gm, '')));
    expect(readers).toEqual(['lambdas/platform/lambda-entry.ts']);
  });

  it('writes to process.env under local/, chaos/ and bench/ only in the runner start-up', () => {
    const writes = /process\.env(\.\w+|\[[^\]]+\])?\s*(=(?!=)|\?\?=|\|\|=)|delete process\.env/;
    const writers = ['local', 'chaos', 'bench'].flatMap(filesIn).filter((file) => writes.test(readFileSync(join(REPO_ROOT, file), 'utf8')));
    expect(writers).toEqual(['local/process/runner-process.ts']);
  });
});
