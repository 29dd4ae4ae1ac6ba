/**
 * Log lines of a webhook dispatcher's invocations that a person can follow: one summary per
 * batch, then what each message's attempt ended in, read back from the Deliveries table the
 * dispatcher writes (the handler's own logs are JSON at WARN):
 *
 *   webhook notifications  batch of 2: 1 delivered, 1 retrying (34 ms)
 *   webhook notifications    payment.created 5d0c… seq=1 delivered (attempt 1, HTTP 200, 41 ms after the event)
 *   webhook notifications    payment.created 9a1e… seq=1 retrying (attempt 1: HTTP 503, next in 3 s)
 */
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SQSRecord } from 'aws-lambda';
import { DELIVERIES_PARTITION_KEY, DELIVERIES_SORT_KEY, deliverySortKey, type DeliveryRecord } from '../../lambdas/domain/delivery-state';
import { describeError, type LocalLogger } from '../log';
import { envelopeFields } from '../../lambdas/domain/event-envelope';
import { eventLabel, traceLabel, type SqsInvocationReport } from './sqs-poller';

export interface WebhookReportOptions {
  readonly subscriber: string;
  readonly deliveriesTable: string;
  readonly documents: DynamoDBDocumentClient;
  readonly log: LocalLogger;
}

type Outcome = 'delivered' | 'retrying' | 'dead-lettered' | 'held' | 'failed';

const seconds = (untilIso: string): string => `${Math.max(0, Math.round((Date.parse(untilIso) - Date.now()) / 1000))} s`;
const httpOf = (code: number | undefined, error: string): string => (code !== undefined ? `HTTP ${code}` : error);

/** One message: its outcome and the words after the event's name. */
export function describeAttempt(record: SQSRecord, failed: boolean, delivery: DeliveryRecord | undefined): { outcome: Outcome; text: string } {
  const current = delivery !== undefined && delivery.messageId === record.messageId ? delivery : undefined;
  if (!failed) {
    if (current?.state === 'delivered') {
      return { outcome: 'delivered', text: `delivered (attempt ${current.attempts}, HTTP ${current.statusCode}, ${current.latencyMs} ms after the event)` };
    }
    if (current?.state === 'dead-lettered') {
      return { outcome: 'dead-lettered', text: `dead-lettered (${current.reason}, attempt ${current.attempts}: ${httpOf(current.lastStatusCode, current.lastError)})` };
    }
    // Settled before (a deletion failed) or a redriven copy: acknowledged without a request.
    return { outcome: 'delivered', text: `acknowledged (${delivery ? delivery.state : 'no delivery record'})` };
  }
  if (current?.state === 'retrying') {
    return {
      outcome: 'retrying',
      text: `retrying (attempt ${current.attempts}: ${httpOf(current.lastStatusCode, current.lastError)}, next in ${seconds(current.nextAttemptAt)})`,
    };
  }
  return { outcome: 'held', text: 'not attempted (behind an unsettled event of its payment, or no time left): back on the queue' };
}

/** The `reporter` of a webhook dispatcher's SQS poller. */
export function webhookInvocationReporter(options: WebhookReportOptions): (report: SqsInvocationReport) => Promise<void> {
  const { log, documents, deliveriesTable, subscriber } = options;
  return async ({ records, failedIds, durationMs, error }) => {
    const lines = await Promise.all(
      records.map(async (record) => {
        const envelope = envelopeFields(record.body);
        const name = eventLabel(record.body) ?? `message ${record.messageId}`;
        const failed = failedIds.has(record.messageId);
        if (error !== undefined) return { outcome: 'failed' as Outcome, line: `${name} FAILED: ${describeError(error)}` };
        let delivery: DeliveryRecord | undefined;
        if (envelope.aggregateId && typeof envelope.sequence === 'number' && envelope.sequence >= 1) {
          const { Item } = await documents.send(
            new GetCommand({
              TableName: deliveriesTable,
              Key: { [DELIVERIES_PARTITION_KEY]: envelope.aggregateId, [DELIVERIES_SORT_KEY]: deliverySortKey(subscriber, envelope.sequence) },
              ConsistentRead: true,
            }),
          );
          delivery = Item as DeliveryRecord | undefined;
        }
        const { outcome, text } = describeAttempt(record, failed, delivery);
        return { outcome, line: `${name} ${text}${traceLabel(record)}` };
      }),
    );
    const counts = new Map<Outcome, number>();
    for (const { outcome } of lines) counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
    const parts = (['delivered', 'retrying', 'dead-lettered', 'held', 'failed'] as const)
      .filter((outcome) => counts.has(outcome))
      .map((outcome) => `${counts.get(outcome)} ${outcome === 'held' ? 'not attempted' : outcome}`);
    const summary = `batch of ${records.length}: ${parts.join(', ')} (${durationMs} ms)`;
    const troubled = lines.some((l) => l.outcome !== 'delivered');
    if (troubled) log.warn(summary);
    else log.info(summary);
    for (const { outcome, line } of lines) {
      if (outcome === 'delivered') log.info(`  ${line}`);
      else log.warn(`  ${line}`);
    }
  };
}
