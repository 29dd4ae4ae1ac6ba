/**
 * Fault injection into the SQS client the handlers share (lambdas/adapters/aws-clients.ts): the
 * local runner imports the handler modules into this process, so a middleware on that client sees
 * every SendMessageBatch the relay makes.
 */
import type { SendMessageBatchCommandInput, SendMessageBatchCommandOutput } from '@aws-sdk/client-sqs';
import { sqsClient } from '../../lambdas/adapters/aws-clients';

export class SimulatedCrash extends Error {
  constructor() {
    super('simulated crash of the relay process');
    this.name = 'SimulatedCrash';
  }
}

export interface SqsFaults {
  /** Decides, per batch entry, whether SQS reports it as failed. */
  failEntry?: (entry: NonNullable<SendMessageBatchCommandInput['Entries']>[number]) => boolean;
  /** Decides, per SendMessageBatch call, whether the call throws (throttling). */
  throttleCall?: () => boolean;
  /** Decides, per SendMessageBatch call, whether the process "dies" before making it. */
  crashBeforeCall?: () => boolean;
}

export interface FaultCounters {
  failedEntries: number;
  throttledCalls: number;
  crashes: number;
  calls: number;
}

const counters: FaultCounters = { failedEntries: 0, throttledCalls: 0, crashes: 0, calls: 0 };
let active: SqsFaults = {};
let installed = false;
let crashPending = false;

export function injectSqsFaults(faults: SqsFaults): FaultCounters {
  active = faults;
  Object.assign(counters, { failedEntries: 0, throttledCalls: 0, crashes: 0, calls: 0 });
  if (!installed) {
    installed = true;
    sqsClient().middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'SendMessageBatchCommand') return next(args);
        counters.calls += 1;
        if (active.crashBeforeCall?.()) {
          counters.crashes += 1;
          crashPending = true;
          throw new SimulatedCrash();
        }
        if (active.throttleCall?.()) {
          counters.throttledCalls += 1;
          throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
        }
        const input = args.input as SendMessageBatchCommandInput;
        const entries = input.Entries ?? [];
        const failing = entries.filter((entry) => active.failEntry?.(entry) ?? false);
        if (failing.length === 0) return next(args);
        counters.failedEntries += failing.length;
        const kept = entries.filter((entry) => !failing.includes(entry));
        const result = kept.length
          ? await next({ ...args, input: { ...input, Entries: kept } })
          : { output: { Successful: [], Failed: [], $metadata: {} } as SendMessageBatchCommandOutput, response: {} };
        const output = result.output as SendMessageBatchCommandOutput;
        output.Failed = [
          ...(output.Failed ?? []),
          ...failing.map((entry) => ({ Id: entry.Id, Code: 'InternalError', SenderFault: false, Message: 'injected failure' })),
        ];
        return result;
      },
      { step: 'initialize', name: 'testSqsFaultInjection' },
    );
  }
  return counters;
}

export function clearSqsFaults(): void {
  active = {};
}

/**
 * For the stream poller's invokeWrapper: an invocation during which a SimulatedCrash happened ends
 * as a function error (no response reaches the event source mapping), as when the process dies.
 */
export async function crashAware<E>(event: E, invoke: (event: E) => Promise<unknown>): Promise<unknown> {
  crashPending = false;
  const result = await invoke(event);
  if (crashPending) {
    crashPending = false;
    throw new SimulatedCrash();
  }
  return result;
}
