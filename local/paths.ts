/** Filesystem locations of the local runner. */
import { join } from 'node:path';
import { REPO_ROOT } from '../lib/repo-root';

export { REPO_ROOT };

/** Default state directory: endpoints.json and pids.json. Override with LOCAL_STATE_DIR. */
export const DEFAULT_STATE_DIR = join(REPO_ROOT, '.local');
