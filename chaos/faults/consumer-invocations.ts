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

export function consumerInvokeWrapper(faults: () => ConsumerFaults | undefined): InvokeWrapper<SQSEvent> {
  return async (event, invoke) => {
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
