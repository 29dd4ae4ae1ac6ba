// Builds the package into dist/: esbuild bundles the repository's own modules that src/ re-exports
// (lambdas/domain, lambdas/consumer-guard, ...) into one ESM file per entry, leaving every npm package
// external (they are dependencies or peer dependencies, never bundled); tsc writes the declarations,
// whose relative imports then get the `.js` paths Node's ESM resolution (TypeScript's NodeNext) needs.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const packageDir = dirname(fileURLToPath(import.meta.url));
const dist = join(packageDir, 'dist');
rmSync(dist, { recursive: true, force: true });

await build({
  absWorkingDir: packageDir,
  entryPoints: ['src/index.ts', 'src/dynamodb.ts'],
  outdir: 'dist',
  bundle: true,
  packages: 'external',
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
});

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(packageDir, 'tsconfig.build.json')], { stdio: 'inherit' });

/** `./x` -> `./x.js`, `./dir` -> `./dir/index.js`, as the declaration files next to them say. */
function withJsExtensions(file) {
  const code = readFileSync(file, 'utf8').replace(/(from |import\()'(\.{1,2}\/[^']+)'/g, (match, keyword, specifier) => {
    if (specifier.endsWith('.js')) return match;
    const target = resolve(dirname(file), specifier);
    if (existsSync(`${target}.d.ts`)) return `${keyword}'${specifier}.js'`;
    if (existsSync(join(target, 'index.d.ts'))) return `${keyword}'${specifier}/index.js'`;
    throw new Error(`${file}: cannot resolve the declaration of ${specifier}`);
  });
  writeFileSync(file, code);
}
const declarations = readdirSync(join(dist, 'types'), { recursive: true, withFileTypes: true })
  .filter((entry) => entry.isFile() && entry.name.endsWith('.d.ts'))
  .map((entry) => join(entry.parentPath, entry.name));
for (const file of declarations) withJsExtensions(file);
