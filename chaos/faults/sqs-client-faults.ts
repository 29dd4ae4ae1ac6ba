/**
 * Fault injection into the SQS client the handlers share (lambdas/adapters/aws-clients.ts): the
 * local runner imports the handler modules into this process, so a middleware on that client sees
 * every SendMessageBatch the relay (and the sweeper) makes.
 *
 * A simulated crash belongs to one relay invocation (`crashAware`, which runs it in its own async
 * context): once it "died" before a SendMessageBatch call, every later AWS call of that invocation
 * fails too (SQS and DynamoDB: nothing is marked published), and the invocation ends as a function
 * error, as when the process is killed. Calls outside such an invocation (the sweeper, tools) are
 * never crashed.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { SendMessageBatchCommandInput, SendMessageBatchCommandOutput, SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import { dynamoDocumentClient, sqsClient } from '../../lambdas/adapters/aws-clients';

export class SimulatedCrash extends Error {
  constructor() {
    super('simulated crash of the relay process');
    this.name = 'SimulatedCrash';
  }
}

/** One SendMessageBatch call as the fault hooks see it. */
export interface SendCall {
  readonly queueUrl: string;
  readonly entries: readonly SendMessageBatchRequestEntry[];
  /** Present inside a `crashAware` invocation: the SendMessageBatch calls it made before this one. */
  readonly invocation?: { readonly callsBefore: number };
}

export interface SqsFaults {
  /** Decides, per batch entry, whether SQS reports it as failed. */
  failEntry?: (entry: SendMessageBatchRequestEntry, call: SendCall) => boolean;
  /** Decides, per SendMessageBatch call, whether the call throws (throttling). */
  throttleCall?: (call: SendCall) => boolean;
  /** Decides, per SendMessageBatch call of a `crashAware` invocation, whether the process "dies" before making it. */
  crashBeforeCall?: (call: SendCall) => boolean;
  /** Told, after each call that reached SQS, which entries it accepted. */
  afterSend?: (accepted: readonly SendMessageBatchRequestEntry[], call: SendCall) => void;
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

const invocations = new AsyncLocalStorage<InvocationState>();
const counters: FaultCounters = { failedEntries: 0, throttledCalls: 0, crashes: 0, calls: 0 };
let active: SqsFaults = {};
let installed = false;

function throttlingError(): Error {
  return Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400 } });
}

function install(): void {
  if (installed) return;
  installed = true;
  sqsClient().middlewareStack.add(
    (next, context) => async (args) => {
      const invocation = invocations.getStore();
      if (invocation?.crashed) throw new SimulatedCrash();
      if (context.commandName !== 'SendMessageBatchCommand') return next(args);
      const input = args.input as SendMessageBatchCommandInput;
      const entries = input.Entries ?? [];
      const call: SendCall = { queueUrl: input.QueueUrl ?? '', entries, ...(invocation && { invocation: { callsBefore: invocation.calls } }) };
      counters.calls += 1;
      if (invocation) invocation.calls += 1;
      if (invocation && active.crashBeforeCall?.(call)) {
        counters.crashes += 1;
        invocation.crashed = true;
        throw new SimulatedCrash();
      }
      if (active.throttleCall?.(call)) {
        counters.throttledCalls += 1;
        throw throttlingError();
      }
      const failing = entries.filter((entry) => active.failEntry?.(entry, call) ?? false);
      const kept = entries.filter((entry) => !failing.includes(entry));
      const result = kept.length
        ? await next(failing.length ? { ...args, input: { ...input, Entries: kept } } : args)
        : { output: { Successful: [], Failed: [], $metadata: {} } as SendMessageBatchCommandOutput, response: {} };
      const output = result.output as SendMessageBatchCommandOutput;
      if (failing.length > 0) {
        counters.failedEntries += failing.length;
        output.Failed = [
          ...(output.Failed ?? []),
          ...failing.map((entry) => ({ Id: entry.Id, Code: 'InternalError', SenderFault: false, Message: 'injected failure' })),
        ];
      }
      if (active.afterSend) {
        const acceptedIds = new Set((output.Successful ?? []).map((entry) => entry.Id));
        active.afterSend(
          kept.filter((entry) => acceptedIds.has(entry.Id)),
          call,
        );
      }
      return result;
    },
    { step: 'initialize', name: 'chaosSqsFaultInjection' },
  );
  // A crashed invocation's process is gone: its DynamoDB calls (marking events published) fail too.
  dynamoDocumentClient().middlewareStack.add(
    (next) => async (args) => {
      if (invocations.getStore()?.crashed) throw new SimulatedCrash();
      return next(args);
    },
    { step: 'initialize', name: 'chaosDeadProcessGuard' },
  );
}

/** Installs the middleware (once per process) and makes `faults` the active ones; resets the counters. */
export function injectSqsFaults(faults: SqsFaults): FaultCounters {
  install();
  active = faults;
  Object.assign(counters, { failedEntries: 0, throttledCalls: 0, crashes: 0, calls: 0 });
  return counters;
}

export function clearSqsFaults(): void {
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
