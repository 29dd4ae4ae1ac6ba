/**
 * Synthesizes `PaymentOutboxStack` in-process, with asset bundling skipped, and returns its
 * CloudFormation template: the single source of the local wiring (no hand-kept resource list).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LocalStartupError } from '../errors';
import { REPO_ROOT } from '../paths';
import type { CfnTemplate } from './types';

export const STACK_MODULE = 'lib/payment-outbox-stack.ts';
export const STACK_CLASS = 'PaymentOutboxStack';

export interface SynthesizeOptions {
  /** Stack id (and name) in the in-memory app, as bin/payment-outbox.ts names it. @default 'PaymentOutbox' */
  readonly stackName?: string;
  /** Props passed to the stack constructor. @default the app's subscribers (bin/app-subscribers.ts appSubscribers()) */
  readonly stackProps?: Record<string, unknown>;
  /** Props merged over the app's when `stackProps` is not given (e.g. `{ paymentGateway: 'toss' }`). */
  readonly appStackPropsOverrides?: Record<string, unknown>;
  /** Repository root holding lib/ and cdk.json. @default the repository of this file */
  readonly repoRoot?: string;
}

/** The app's subscriber list (bin/app-subscribers.ts, side-effect free), used when no stack props are given. */
export const APP_SUBSCRIBERS_MODULE = 'bin/app-subscribers.ts';

/**
 * Props of a local run when none are given: the app's subscribers (the example consumer's queue and
 * the `notifications` webhook on the local receiver's URL), as bin/payment-outbox.ts passes them.
 * The stack alone defaults to the queue subscriber only.
 */
async function appStackProps(repoRoot: string): Promise<Record<string, unknown>> {
  const module = (await import(pathToFileURL(join(repoRoot, APP_SUBSCRIBERS_MODULE)).href)) as { appSubscribers?: () => unknown[] };
  if (typeof module.appSubscribers !== 'function') throw new LocalStartupError(`${APP_SUBSCRIBERS_MODULE} does not export appSubscribers()`);
  return { subscribers: module.appSubscribers() };
}

type StackConstructor = new (scope: unknown, id: string, props?: Record<string, unknown>) => unknown;

/** Context the CDK CLI would add from cdk.json (feature flags change templates). */
function cdkJsonContext(repoRoot: string): Record<string, unknown> {
  const file = join(repoRoot, 'cdk.json');
  if (!existsSync(file)) return {};
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { context?: Record<string, unknown> };
  return parsed.context ?? {};
}

export async function synthesizeTemplate(options: SynthesizeOptions = {}): Promise<CfnTemplate> {
  const repoRoot = options.repoRoot ?? REPO_ROOT;
  const stackName = options.stackName ?? 'PaymentOutbox';
  const modulePath = join(repoRoot, STACK_MODULE);
  if (!existsSync(modulePath)) throw new LocalStartupError(`${STACK_MODULE} not found: the local runner reads the stack it defines`);

  const { App } = await import('aws-cdk-lib');
  const module = (await import(pathToFileURL(modulePath).href)) as Record<string, unknown>;
  const Stack = module[STACK_CLASS] as StackConstructor | undefined;
  if (typeof Stack !== 'function') throw new LocalStartupError(`${STACK_MODULE} does not export ${STACK_CLASS}`);

  const outdir = mkdtempSync(join(tmpdir(), 'payment-outbox-synth-'));
  try {
    const app = new App({
      outdir,
      context: { ...cdkJsonContext(repoRoot), 'aws:cdk:bundling-stacks': [] },
    });
    new Stack(app, stackName, options.stackProps ?? { ...(await appStackProps(repoRoot)), ...options.appStackPropsOverrides });
    return app.synth().getStackByName(stackName).template as CfnTemplate;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
