/**
 * The consumer guard: wrap any SQS FIFO handler of payment events so that each event takes
 * effect exactly once and in sequence order per payment. See `guarded-fifo-consumer.ts`.
 *
 * ```ts
 * const consume = guardedFifoConsumer({ store: inbox, apply: (event) => effectOf(event), logger, metrics });
 * export const handler = middy(consume).use(injectLambdaContext(logger)).use(logMetrics(metrics));
 * ```
 */
export { guardedFifoConsumer, messageTraceContext, type ApplyContext, type GuardedFifoConsumerOptions, type GuardedFifoHandler } from './guarded-fifo-consumer';
export { childTraceContext, formatTraceparent, parseTraceparent, TRACEPARENT, type TraceContext } from '../domain/trace-context';
export { InvalidEnvelopeError, SequenceGapError } from '../domain/consumer-rules';
export { ApplyContentionError, type ApplyOutcome } from '../use-cases/apply-once';
export type { InboxCommitResult, InboxStore } from '../ports/inbox-store';
