import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repository root: where entry paths (`lambdas/functions/<name>/entry.ts`), `.local/` and the
 * CDK app are resolved from, whatever the working directory. The one definition (this file is `lib/repo-root.ts`).
 */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
