/**
 * The example consumer's invocations as the chaos run sees them (the SQS poller's invokeWrapper),
 * in this order:
 * 1. the whole invocation fails before the handler runs (an error: every message is retried);
 * 2. chosen messages fail without reaching the handler (reported in `batchItemFailures`), and so
 *    does every later message of the same group in the batch (FIFO order: nothing may overtake a
 *    failed message of its group);
 * 3. the handler runs on the rest, and possibly a second time with the same event, one call
 *    after the other or both at once (a duplicate delivery);
 * 4. the invocation "crashes" after the handler returned: its effects are committed, but no
 *    response reaches the poller, so every message is received again.
 */
import type { SQSBatchItemFailure, SQSEvent, SQSRecord } from 'aws-lambda';
import type { InvokeWrapper } from '../../local/pollers/stream-poller';

export type MessageFault = 'failure' | 'poison';
export type DuplicateMode = 'sequential' | 'concurrent';

export interface ConsumerFaults {
  /** True: the invocation fails before the handler runs. */
  errorBeforeInvoke(records: readonly SQSRecord[]): boolean;
  /** How this message fails without reaching the handler, or undefined. */
  failMessage(record: SQSRecord): MessageFault | undefined;
  /** Whether the handler is invoked a second time with the same event, and how. */
  duplicateInvocation(records: readonly SQSRecord[]): DuplicateMode | undefined;
  /** True: the invocation crashes after the handler returned. */
  crashAfterInvoke(records: readonly SQSRecord[]): boolean;
}

/** Sees every invocation, injecting or not: what was delivered and what the handler answered for each message. */
export interface ConsumerObserver {
  delivered(records: readonly SQSRecord[]): void;
  /**
   * The handler ran on `records` and reported `failedIds` as failed (the rest as done). Ids that
   * are not among `records` are another invocation's: state shared by overlapping invocations.
   */
  handled(records: readonly SQSRecord[], failedIds: ReadonlySet<string>): void;
}

export class InjectedConsumerError extends Error {
  constructor(what: string) {
    super(`injected consumer fault: ${what}`);
    this.name = 'InjectedConsumerError';
  }
}

const failuresOf = (result: unknown): SQSBatchItemFailure[] => {
  const failures = (result as { batchItemFailures?: unknown } | null | undefined)?.batchItemFailures;
  return Array.isArray(failures) ? (failures as SQSBatchItemFailure[]) : [];
};

export interface ConsumerWrapperOptions {
  readonly observer?: ConsumerObserver;
  /**
   * Run the handler for one invocation at a time in this process, as one Lambda execution
   * environment does (the handler's state, at module scope or in its factory's closure, is never
   * shared by overlapping invocations). A diagnostic: the local runner itself lets invocations of
   * one function instance overlap.
   */
  readonly oneAtATime?: boolean;
}

export function consumerInvokeWrapper(faults: () => ConsumerFaults | undefined, options: ConsumerWrapperOptions = {}): InvokeWrapper<SQSEvent> {
  const { observer } = options;
  let queue: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(work: () => Promise<T>): Promise<T> => {
    const run = queue.then(work, work);
    queue = run.catch(() => undefined);
    return run;
  };
  const observed = async (event: SQSEvent, invoke: (event: SQSEvent) => Promise<unknown>): Promise<unknown> => {
    const result = await (options.oneAtATime ? exclusive(() => invoke(event)) : invoke(event));
    observer?.handled(event.Records, new Set(failuresOf(result).map((f) => f.itemIdentifier)));
    return result;
  };
  return async (event, received) => {
    observer?.delivered(event.Records);
    const invoke = (e: SQSEvent) => observed(e, received);
    const active = faults();
    if (!active) return invoke(event);
    if (active.errorBeforeInvoke(event.Records)) throw new InjectedConsumerError('invocation failed before the handler ran');

    const failed = new Set<string>();
    const blockedGroups = new Set<string>();
    for (const record of event.Records) {
      const group = record.attributes.MessageGroupId ?? '';
      if (blockedGroups.has(group) || active.failMessage(record) !== undefined) {
        failed.add(record.messageId);
        blockedGroups.add(group);
      }
    }
    const rest = event.Records.filter((record) => !failed.has(record.messageId));
    const injected = [...failed].map((itemIdentifier) => ({ itemIdentifier }));
    if (rest.length === 0) return { batchItemFailures: injected };

    const handed = rest.length === event.Records.length ? event : { ...event, Records: rest };
    let handlerFailures: SQSBatchItemFailure[];
    const duplicate = active.duplicateInvocation(rest);
    if (duplicate === 'concurrent') {
      const results = await Promise.all([invoke(handed), invoke(handed)]);
      handlerFailures = results.flatMap(failuresOf);
    } else {
      handlerFailures = failuresOf(await invoke(handed));
      if (duplicate === 'sequential') handlerFailures.push(...failuresOf(await invoke(handed)));
    }
    if (active.crashAfterInvoke(rest)) throw new InjectedConsumerError('crashed after the handler returned');

    const reported = new Map<string, SQSBatchItemFailure>();
    for (const failure of [...injected, ...handlerFailures]) reported.set(failure.itemIdentifier, failure);
    return { batchItemFailures: [...reported.values()] };
  };
}
