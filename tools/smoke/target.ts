/**
 * What the smoke test runs against, resolved from a deployed stack's outputs (DescribeStacks) or
 * from a running `npm start`'s endpoints.json. Both give the same `SmokeTarget`; the steps do not
 * know which one they drive, except that a deployed stack's API is called with SigV4 signatures.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { describeStackOutputs } from '../../cli/stack-outputs';
import { endpointsFilePath, type EndpointsFile } from '../../local/endpoints-file';
import { DEFAULT_STATE_DIR } from '../../local/paths';
import { EXAMPLE_CONSUMER_QUEUE_NAME, PAYMENT_EVENTS_TOPIC_NAME } from '../../lambdas/platform/resource-names';

/** How the smoke test confirms its payment. */
export type SmokePaymentGateway =
  | { readonly kind: 'sandbox' }
  /** tools/toss-local: a session stands in for the buyer's payment window. */
  | { readonly kind: 'toss-local'; readonly controlUrl: string };

export interface SmokeTarget {
  readonly kind: 'stack' | 'local';
  /** `stack NAME (region)` or `local stack (<endpoints.json>)`, for the output. */
  readonly label: string;
  /** The API's base URL, without a trailing slash (a deployed stack's includes its stage). */
  readonly apiUrl: string;
  readonly region: string;
  /** The SNS FIFO topic every payment event is published to. */
  readonly topicArn: string;
  /** The `payment-events` subscriber's queue: shown, never read (its consumer owns its messages). */
  readonly paymentEventsQueueUrl?: string;
  readonly paymentGateway: SmokePaymentGateway;
  /** Local: the emulators' SNS and SQS endpoints (dummy credentials). Absent for a deployed stack. */
  readonly emulator?: { readonly sqsEndpoint: string; readonly snsEndpoint: string };
}

/** A target the smoke test cannot drive (a deployed Toss stack); exit 2. */
export class SmokeRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SmokeRefusedError';
  }
}

/** The stack outputs the smoke test reads (lib/payment-outbox-stack.ts). */
export const STACK_OUTPUTS = {
  apiUrl: 'ApiUrl',
  topicArn: 'PaymentEventsTopicArn',
  paymentEventsQueueUrl: 'PaymentEventsQueueUrl',
  paymentGateway: 'PaymentGateway',
} as const;

const TOSS_REFUSAL =
  'runs on Toss Payments: a confirm needs a paymentKey from a real buyer in Toss\'s payment window, which a smoke test cannot ' +
  'produce. Smoke-test a sandbox stack (the default, -c paymentGateway=sandbox), or a local toss-local stack (npm start -- --pg toss-local; npm run smoke -- --local).';

/**
 * The target of a deployed stack from its DescribeStacks outputs (by key).
 * @throws Error naming a missing output; SmokeRefusedError on a Toss stack
 */
export function stackTargetFromOutputs(stackName: string, region: string, outputs: Readonly<Record<string, string>>): SmokeTarget {
  const values = new Map(Object.entries(outputs));
  const required = (key: string): string => {
    const value = values.get(key);
    if (value === undefined) {
      throw new Error(`stack ${stackName} has no output ${key} (outputs: ${[...values.keys()].sort().join(', ') || 'none'}); is it a payment-outbox stack, deployed from this version?`);
    }
    return value;
  };
  const gateway = values.get(STACK_OUTPUTS.paymentGateway) ?? 'sandbox';
  if (gateway === 'toss') throw new SmokeRefusedError(`stack ${stackName} ${TOSS_REFUSAL}`);
  if (gateway !== 'sandbox') throw new Error(`stack ${stackName}: unknown ${STACK_OUTPUTS.paymentGateway} output "${gateway}"`);
  const queueUrl = values.get(STACK_OUTPUTS.paymentEventsQueueUrl);
  return {
    kind: 'stack',
    label: `stack ${stackName} (${region})`,
    apiUrl: withoutTrailingSlash(required(STACK_OUTPUTS.apiUrl)),
    region,
    topicArn: required(STACK_OUTPUTS.topicArn),
    ...(queueUrl !== undefined && { paymentEventsQueueUrl: queueUrl }),
    paymentGateway: { kind: 'sandbox' },
  };
}

/**
 * DescribeStacks (as the outbox CLI's `--stack` reads it), then {@link stackTargetFromOutputs}.
 * `region` is the client's (the caller's `--region` or the SDK's chain).
 */
export async function resolveStackTarget(stackName: string, cloudFormation: CloudFormationClient): Promise<SmokeTarget> {
  const region = await cloudFormation.config.region().catch(() => undefined);
  if (!region) throw new Error('no region: pass --region or set AWS_REGION (or a region in your AWS profile)');
  const { values } = await describeStackOutputs(stackName, cloudFormation);
  return stackTargetFromOutputs(stackName, region, values);
}

/** `$LOCAL_STATE_DIR/endpoints.json`, else `<repo>/.local/endpoints.json`. */
export function defaultLocalEndpointsFile(env: Readonly<Record<string, string | undefined>>): string {
  return endpointsFilePath(env.LOCAL_STATE_DIR ? resolve(env.LOCAL_STATE_DIR) : DEFAULT_STATE_DIR);
}

/**
 * The target of a running local stack from its endpoints.json (already parsed).
 * @throws Error naming a missing field; SmokeRefusedError on a local stack calling a real Toss
 */
export function localTargetFromEndpoints(endpoints: EndpointsFile, source: string): SmokeTarget {
  for (const field of ['apiUrl', 'region', 'sqsEndpoint'] as const) {
    if (typeof endpoints[field] !== 'string' || endpoints[field] === '') throw new Error(`${source}: "${field}" is missing`);
  }
  const topicArn = paymentEventsTopicArn(endpoints.topics ?? {});
  if (topicArn === undefined) {
    throw new Error(`${source}: no ${PAYMENT_EVENTS_TOPIC_NAME} topic in "topics" (${Object.keys(endpoints.topics ?? {}).join(', ') || 'none'})`);
  }
  const pg = endpoints.paymentGateway ?? { kind: 'sandbox' };
  let paymentGateway: SmokePaymentGateway;
  if (pg.kind === 'toss') {
    if (!pg.local) throw new SmokeRefusedError(`the local stack of ${source} calls a real Toss API and ${TOSS_REFUSAL}`);
    paymentGateway = { kind: 'toss-local', controlUrl: withoutTrailingSlash(pg.local.controlUrl) };
  } else {
    paymentGateway = { kind: 'sandbox' };
  }
  const queueUrl = Object.entries(endpoints.queues ?? {}).find(([name]) => isPaymentEventsName(name, EXAMPLE_CONSUMER_QUEUE_NAME))?.[1];
  return {
    kind: 'local',
    label: `local stack (${source})`,
    apiUrl: withoutTrailingSlash(endpoints.apiUrl),
    region: endpoints.region,
    topicArn,
    ...(queueUrl !== undefined && { paymentEventsQueueUrl: queueUrl }),
    paymentGateway,
    emulator: { sqsEndpoint: endpoints.sqsEndpoint, snsEndpoint: endpoints.snsEndpoint || endpoints.sqsEndpoint },
  };
}

/**
 * Reads endpoints.json and resolves it.
 * @throws Error saying how to start the local stack when the file is missing
 */
export function readLocalTarget(file: string): SmokeTarget {
  if (!existsSync(file)) throw new Error(`${file} does not exist: start the local stack first (npm start), or pass --endpoints <file>`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new Error(`${file} is not JSON`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error(`${file} is not a JSON object`);
  return localTargetFromEndpoints(json as EndpointsFile, file);
}

/** The topic named `payment-events.fifo`, or the one topic whose name ends in `-payment-events.fifo` (a stage prefix). */
function paymentEventsTopicArn(topics: Readonly<Record<string, string>>): string | undefined {
  const exact = topics[PAYMENT_EVENTS_TOPIC_NAME];
  if (exact !== undefined) return exact;
  const prefixed = Object.entries(topics).filter(([name]) => isPaymentEventsName(name, PAYMENT_EVENTS_TOPIC_NAME));
  return prefixed.length === 1 ? prefixed[0]![1] : undefined;
}

function isPaymentEventsName(name: string, base: string): boolean {
  return name === base || name.endsWith(`-${base}`);
}

function withoutTrailingSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
