/**
 * Integration tests: once per run, check Java, stop processes a crashed earlier run left behind,
 * and synthesize the stack's template (cached by input hash) for every test file's local stack.
 * Each test file starts its own stack (test/integration/harness.ts): a fresh DynamoDB Local per
 * file keeps heavy suites from slowing the next ones (stream tables with thousands of records).
 * Teardown stops anything a crashed worker left running.
 */
import type { TestProject } from 'vitest/node';
import { assertJava } from '../../local/emulators/java';
import { createLogger } from '../../local/log';
import { DEFAULT_STATE_DIR } from '../../local/paths';
import { loadTemplate } from '../../local/template/template-cache';
import type { CfnTemplate } from '../../local/template/types';
import { stopTestLeftovers } from './test-state-dirs';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The synthesized PaymentOutboxStack template. */
    localTemplate: CfnTemplate;
    /** The same app on Toss Payments (`paymentGateway: 'toss'`). */
    localTossTemplate: CfnTemplate;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const log = createLogger('test-setup', { level: 'warn' });
  assertJava();
  await stopTestLeftovers(log);
  const { template } = await loadTemplate(DEFAULT_STATE_DIR);
  const { template: tossTemplate } = await loadTemplate(DEFAULT_STATE_DIR, { appStackPropsOverrides: { paymentGateway: 'toss' } });
  project.provide('localTemplate', template);
  project.provide('localTossTemplate', tossTemplate);
  return async () => {
    const leftovers = await stopTestLeftovers(log);
    if (leftovers.length > 0) log.warn(`stopped ${leftovers.length} process(es) a test worker left running`);
  };
}
