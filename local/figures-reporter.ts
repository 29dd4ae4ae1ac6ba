/**
 * Every `intervalSeconds`, one log line with the figures the deployed stack reports as CloudWatch
 * metrics: events published and publish failures (relay), relay lag (publishedAt − occurredAt of
 * the events published in the interval), events applied / failed by the consumers, and the depth of
 * every dead-letter queue. The sweeper's own line (oldest pending age, republishes) comes from its
 * scheduled runs.
 */
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { PUBLISHED_AT_ATTRIBUTE } from '../lambdas/domain/pending-shards';
import { describeError, type LocalLogger } from './log';
import type { SqsPoller } from './pollers/sqs-poller';
import type { StreamPoller } from './pollers/stream-poller';
import type { LocalQueueRef } from './template/intrinsics';

export interface FiguresReporterOptions {
  readonly documents: DynamoDBDocumentClient;
  readonly sqs: SQSClient;
  readonly outboxTable: string;
  readonly relay?: StreamPoller;
  readonly consumers: readonly SqsPoller[];
  readonly deadLetterQueues: readonly LocalQueueRef[];
  readonly log: LocalLogger;
  readonly intervalSeconds: number;
}

export class FiguresReporter {
  private timer: NodeJS.Timeout | undefined;
  private since = new Date().toISOString();
  private last = { published: 0, failed: 0, applied: 0, consumerFailed: 0 };
  private reporting: Promise<void> | undefined;

  constructor(private readonly options: FiguresReporterOptions) {}

  start(): void {
    this.timer = setInterval(() => {
      this.reporting ??= this.report()
        .catch((error: unknown) => this.options.log.warn(`figures not reported: ${describeError(error)}`))
        .finally(() => {
          this.reporting = undefined;
        });
    }, this.options.intervalSeconds * 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.reporting;
  }

  /** Logs one line for the interval since the previous report. */
  async report(): Promise<void> {
    const { relay, consumers } = this.options;
    const now = { published: relay?.stats.published ?? 0, failed: relay?.stats.failed ?? 0, applied: 0, consumerFailed: 0 };
    for (const consumer of consumers) {
      now.applied += consumer.stats.succeeded;
      now.consumerFailed += consumer.stats.failed;
    }
    const until = new Date().toISOString();
    const [lags, dlqDepths] = await Promise.all([this.relayLagsMs(this.since, until), this.deadLetterDepths()]);
    const line = [
      `published=${now.published - this.last.published}`,
      `publishFailures=${now.failed - this.last.failed}`,
      `relayLagMs p50=${percentile(lags, 50)} p99=${percentile(lags, 99)}`,
      `consumed=${now.applied - this.last.applied}`,
      `consumeFailures=${now.consumerFailed - this.last.consumerFailed}`,
      ...dlqDepths.map(([name, depth]) => `${name}=${depth}`),
    ].join(' ');
    this.options.log.info(`figures (last ${this.options.intervalSeconds} s): ${line}`);
    this.last = now;
    this.since = until;
  }

  private async relayLagsMs(from: string, to: string): Promise<number[]> {
    const lags: number[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.options.documents.send(
        new ScanCommand({
          TableName: this.options.outboxTable,
          FilterExpression: '#published >= :from AND #published < :to',
          ExpressionAttributeNames: { '#published': PUBLISHED_AT_ATTRIBUTE },
          ExpressionAttributeValues: { ':from': from, ':to': to },
          ProjectionExpression: 'occurredAt, #published',
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        lags.push(Date.parse(String(item[PUBLISHED_AT_ATTRIBUTE])) - Date.parse(String(item.occurredAt)));
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return lags.sort((a, b) => a - b);
  }

  private deadLetterDepths(): Promise<Array<[string, number]>> {
    return Promise.all(
      this.options.deadLetterQueues.map(async (queue): Promise<[string, number]> => {
        const { Attributes } = await this.options.sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: queue.url, AttributeNames: ['ApproximateNumberOfMessages'] }),
        );
        return [queue.queueName, Number(Attributes?.ApproximateNumberOfMessages ?? 0)];
      }),
    );
  }
}

function percentile(sorted: readonly number[], p: number): string {
  if (sorted.length === 0) return '-';
  return String(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]);
}
