/**
 * Fault injection into the SDK clients it is installed on (`installPublishFaults`): the clients
 * the local runner gives each function instance (chaos hands them through the stack's
 * `functionClients` option, so the relay and the scheduled outbox sweeper get them), the chaos
 * sweeper's own clients, and those chaos passes to a tool. A middleware on those clients sees
 * every batch the relay and the sweeper publish (SNS PublishBatch to the `payment-events.fifo`
 * topic) and every SQS SendMessageBatch made on them. No other client is touched: there are no
 * shared clients any more (each function instance builds its handler from clients of its own,
 * see lambdas/platform/aws-clients.ts and lambdas/platform/function-runtime.ts).
 *
 * The middlewares stay installed and pass everything through until `injectPublishFaults` makes
 * decisions active, and again after `clearPublishFaults`.
 *
 * A simulated crash belongs to one relay invocation (`crashAware`, which runs it in its own async
 * context): once it "died" before a publish call, every later AWS call of that invocation fails
 * too (SNS, SQS and DynamoDB: nothing is marked published), and the invocation ends as a function
 * error, as when the process is killed. Calls outside such an invocation (the sweeper, tools) are
 * never crashed.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { PublishBatchCommandInput, PublishBatchCommandOutput, SNSClient } from '@aws-sdk/client-sns';
import type { SendMessageBatchCommandInput, SendMessageBatchCommandOutput, SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export class SimulatedCrash extends Error {
  constructor() {
    super('simulated crash of the relay process');
    this.name = 'SimulatedCrash';
  }
}

/** Message attributes as both brokers spell them (SNS and SQS share these fields). */
type EntryAttributes = Record<string, { DataType: string | undefined; StringValue?: string | undefined }>;

/** One entry of a publish call, whichever the broker. */
export interface PublishEntry {
  readonly Id: string | undefined;
  readonly MessageGroupId: string | undefined;
  readonly MessageDeduplicationId: string | undefined;
  /** SQS MessageBody or SNS Message. */
  readonly body: string | undefined;
  readonly MessageAttributes: EntryAttributes | undefined;
}

/** One publish call (SNS PublishBatch or SQS SendMessageBatch) as the fault hooks see it. */
export interface PublishCall {
  readonly broker: 'sns' | 'sqs';
  /** The topic ARN (sns) or the queue URL (sqs). */
  readonly target: string;
  readonly entries: readonly PublishEntry[];
  /** Present inside a `crashAware` invocation: the publish calls it made before this one. */
  readonly invocation?: { readonly callsBefore: number };
}

export interface PublishFaults {
  /** Decides, per batch entry, whether the broker reports it as failed. */
  failEntry?: (entry: PublishEntry, call: PublishCall) => boolean;
  /** Decides, per publish call, whether the call throws (throttling). */
  throttleCall?: (call: PublishCall) => boolean;
  /** Decides, per publish call of a `crashAware` invocation, whether the process "dies" before making it. */
  crashBeforeCall?: (call: PublishCall) => boolean;
  /** Told, after each call that reached the broker, which entries it accepted. */
  afterPublish?: (accepted: readonly PublishEntry[], call: PublishCall) => void;
}

export interface FaultCounters {
  failedEntries: number;
  throttledCalls: number;
  crashes: number;
  calls: number;
}

interface InvocationState {
  calls: number;
  crashed: boolean;
}

interface BatchResult {
  Successful?: Array<{ Id?: string | undefined }>;
  Failed?: Array<{ Id: string | undefined; Code: string | undefined; SenderFault: boolean | undefined; Message?: string | undefined }>;
}

/** How one broker's batch call carries its entries. */
interface BatchShape<Input> {
  readonly broker: PublishCall['broker'];
  readonly command: string;
  target(input: Input): string;
  entries(input: Input): PublishEntry[];
  /** The input with only the entries whose ids are listed. */
  keep(input: Input, ids: ReadonlySet<string | undefined>): Input;
}

const SNS_PUBLISH_BATCH: BatchShape<PublishBatchCommandInput> = {
  broker: 'sns',
  command: 'PublishBatchCommand',
  target: (input) => input.TopicArn ?? '',
  entries: (input) =>
    (input.PublishBatchRequestEntries ?? []).map((entry) => ({
      Id: entry.Id,
      MessageGroupId: entry.MessageGroupId,
      MessageDeduplicationId: entry.MessageDeduplicationId,
      body: entry.Message,
      MessageAttributes: entry.MessageAttributes as EntryAttributes | undefined,
    })),
  keep: (input, ids) => ({ ...input, PublishBatchRequestEntries: (input.PublishBatchRequestEntries ?? []).filter((e) => ids.has(e.Id)) }),
};

const SQS_SEND_BATCH: BatchShape<SendMessageBatchCommandInput> = {
  broker: 'sqs',
  command: 'SendMessageBatchCommand',
  target: (input) => input.QueueUrl ?? '',
  entries: (input) =>
    (input.Entries ?? []).map((entry) => ({
      Id: entry.Id,
      MessageGroupId: entry.MessageGroupId,
      MessageDeduplicationId: entry.MessageDeduplicationId,
      body: entry.MessageBody,
      MessageAttributes: entry.MessageAttributes as EntryAttributes | undefined,
    })),
  keep: (input, ids) => ({ ...input, Entries: (input.Entries ?? []).filter((e) => ids.has(e.Id)) }),
};

const invocations = new AsyncLocalStorage<InvocationState>();
const counters: FaultCounters = { failedEntries: 0, throttledCalls: 0, crashes: 0, calls: 0 };
let active: PublishFaults = {};
/** Told of every accepted entry whether faults are injected or not (see `observePublishes`). */
let observer: ((accepted: readonly PublishEntry[], call: PublishCall) => void) | undefined;
/** The clients that got the middlewares already (each gets them once). */
const instrumented = new WeakSet<object>();

function throttlingError(broker: PublishCall['broker']): Error {
  const name = broker === 'sns' ? 'ThrottledException' : 'ThrottlingException';
  return Object.assign(new Error('Rate exceeded'), { name, $fault: 'client', $metadata: { httpStatusCode: 400 } });
}

type Next = (args: { input: object }) => Promise<{ output: object; response: unknown }>;

/** The fault hooks around one batch call. */
async function faultedBatch<Input extends object>(shape: BatchShape<Input>, input: Input, args: { input: object }, next: Next) {
  const invocation = invocations.getStore();
  const entries = shape.entries(input);
  const call: PublishCall = {
    broker: shape.broker,
    target: shape.target(input),
    entries,
    ...(invocation && { invocation: { callsBefore: invocation.calls } }),
  };
  counters.calls += 1;
  if (invocation) invocation.calls += 1;
  if (invocation && active.crashBeforeCall?.(call)) {
    counters.crashes += 1;
    invocation.crashed = true;
    throw new SimulatedCrash();
  }
  if (active.throttleCall?.(call)) {
    counters.throttledCalls += 1;
    throw throttlingError(shape.broker);
  }
  const failing = entries.filter((entry) => active.failEntry?.(entry, call) ?? false);
  const kept = entries.filter((entry) => !failing.includes(entry));
  const result = kept.length
    ? await next(failing.length ? { ...args, input: shape.keep(input, new Set(kept.map((e) => e.Id))) } : args)
    : { output: { Successful: [], Failed: [], $metadata: {} }, response: {} };
  const output = result.output as BatchResult;
  if (failing.length > 0) {
    counters.failedEntries += failing.length;
    output.Failed = [
      ...(output.Failed ?? []),
      ...failing.map((entry) => ({ Id: entry.Id, Code: 'InternalError', SenderFault: false, Message: 'injected failure' })),
    ];
  }
  if (active.afterPublish || observer) {
    const acceptedIds = new Set((output.Successful ?? []).map((entry) => entry.Id));
    const accepted = kept.filter((entry) => acceptedIds.has(entry.Id));
    active.afterPublish?.(accepted, call);
    observer?.(accepted, call);
  }
  return result;
}

/** A crashed invocation's process is gone: any AWS call it still makes fails. */
function deadProcessGuard<A, R>(next: (args: A) => Promise<R>) {
  return async (args: A): Promise<R> => {
    if (invocations.getStore()?.crashed) throw new SimulatedCrash();
    return next(args);
  };
}

/** The clients `installPublishFaults` instruments; any may be missing (a tool has no SNS client). */
export interface PublishFaultClients {
  readonly sns?: SNSClient;
  readonly sqs?: SQSClient;
  readonly documents?: DynamoDBDocumentClient;
}

/**
 * Adds the fault middlewares to these clients (once per client) and returns them: SNS
 * PublishBatch and SQS SendMessageBatch meet the active faults, and every call (DynamoDB too)
 * of a crashed `crashAware` invocation fails. Inert until `injectPublishFaults`.
 */
export function installPublishFaults<C extends PublishFaultClients>(clients: C): C {
  const { sns, sqs, documents } = clients;
  if (sns && !instrumented.has(sns)) {
    instrumented.add(sns);
    sns.middlewareStack.add(
      (next, context) => async (args) => {
        if (invocations.getStore()?.crashed) throw new SimulatedCrash();
        if (context.commandName !== SNS_PUBLISH_BATCH.command) return next(args);
        return (await faultedBatch(SNS_PUBLISH_BATCH, args.input as PublishBatchCommandInput, args, next as Next)) as Awaited<
          ReturnType<typeof next>
        > & { output: PublishBatchCommandOutput };
      },
      { step: 'initialize', name: 'chaosSnsFaultInjection' },
    );
  }
  if (sqs && !instrumented.has(sqs)) {
    instrumented.add(sqs);
    sqs.middlewareStack.add(
      (next, context) => async (args) => {
        if (invocations.getStore()?.crashed) throw new SimulatedCrash();
        if (context.commandName !== SQS_SEND_BATCH.command) return next(args);
        return (await faultedBatch(SQS_SEND_BATCH, args.input as SendMessageBatchCommandInput, args, next as Next)) as Awaited<
          ReturnType<typeof next>
        > & { output: SendMessageBatchCommandOutput };
      },
      { step: 'initialize', name: 'chaosSqsFaultInjection' },
    );
  }
  if (documents && !instrumented.has(documents)) {
    instrumented.add(documents);
    // Marking events published goes through DynamoDB: a dead process marks nothing.
    documents.middlewareStack.add((next) => deadProcessGuard(next), { step: 'initialize', name: 'chaosDeadProcessGuard' });
  }
  return clients;
}

/**
 * Makes `faults` the active decisions of every client `installPublishFaults` instrumented (and of
 * those it instruments later); resets the counters.
 */
export function injectPublishFaults(faults: PublishFaults): FaultCounters {
  active = faults;
  Object.assign(counters, { failedEntries: 0, throttledCalls: 0, crashes: 0, calls: 0 });
  return counters;
}

/**
 * Tells `observe` of the entries every instrumented client's publish calls got accepted, from now
 * on and after `clearPublishFaults` too (a call made inside a `crashAware` invocation is the
 * relay's: it carries `invocation`); `undefined` stops it. It decides nothing.
 */
export function observePublishes(observe: ((accepted: readonly PublishEntry[], call: PublishCall) => void) | undefined): void {
  observer = observe;
}

/** Every instrumented client passes through again (the middlewares stay installed). */
export function clearPublishFaults(): void {
  active = {};
}

/**
 * For the stream poller's invokeWrapper: runs the invocation in its own context; if the process
 * "died" during it (a SimulatedCrash), it ends as a function error (no response reaches the event
 * source mapping), whatever the handler returned.
 */
export async function crashAware<E>(event: E, invoke: (event: E) => Promise<unknown>): Promise<unknown> {
  const state: InvocationState = { calls: 0, crashed: false };
  return invocations.run(state, async () => {
    const result = await invoke(event);
    if (state.crashed) throw new SimulatedCrash();
    return result;
  });
}
