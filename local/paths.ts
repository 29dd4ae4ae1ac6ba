/** Filesystem locations of the local runner. */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (this file lives in `local/`). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Default state directory: endpoints.json and pids.json. Override with LOCAL_STATE_DIR. */
export const DEFAULT_STATE_DIR = join(REPO_ROOT, '.local');
