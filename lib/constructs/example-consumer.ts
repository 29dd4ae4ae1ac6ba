import { Duration } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV } from '../../lambdas/platform/env-names';
import { PaymentFunction, type TableItemAction } from './payment-function';
import { validateIntegerInRange } from './validation';

/** Handler entry of the example consumer. */
export const EXAMPLE_CONSUMER_ENTRY = 'lambdas/functions/example-consumer/entry.ts';

/**
 * What the consumer does to its Inbox table (lambdas/adapters/dynamodb-inbox.ts, through the consumer guard):
 * no Query, Scan, DeleteItem or batch call. A TransactWriteItems needs the action of each of its items.
 */
export const EXAMPLE_CONSUMER_INBOX_ACTIONS: readonly TableItemAction[] = [
  'GetItem', // lastAppliedSequence: consistent read of the payment's projection (`payment#<id>`)
  'PutItem', // commit: the transaction's Put of the inbox record (`event#<id>`, conditioned on not existing)
  'UpdateItem', // commit: the transaction's Update of the projection (conditioned on the previous sequence)
];

/** Props of {@link ExampleConsumer}. */
export interface ExampleConsumerProps {
  /** The FIFO queue to consume (`payment-events.fifo`). */
  readonly queue: IQueue;

  /** The consumer's inbox and projection table (`INBOX_TABLE_NAME`). */
  readonly inboxTable: ITable;

  /**
   * Timeout of the consumer function. Keep the queue's visibility timeout at 6 times this
   * (see PaymentEventQueue.consumerTimeout).
   *
   * @default Duration.seconds(30)
   */
  readonly timeout?: Duration;

  /**
   * Messages per invocation, an integer between 1 and 10 (the FIFO maximum).
   *
   * @default 10
   */
  readonly batchSize?: number;
}

/**
 * An example subscriber of payment events: a function on the FIFO queue with partial batch
 * responses, idempotent through its inbox table (`INBOX_TABLE_NAME`: GetItem, PutItem, UpdateItem only).
 */
export class ExampleConsumer extends Construct {
  /** The consumer function. */
  public readonly consumerFunction: PaymentFunction;

  constructor(scope: Construct, id: string, props: ExampleConsumerProps) {
    super(scope, id);

    const batchSize = props.batchSize ?? 10;
    validateIntegerInRange(this, 'batchSize', batchSize, 1, 10);
    if (props.queue.fifo !== true) {
      throw new Error(`${this.node.path}: queue must be a FIFO queue (ordering per payment relies on message groups)`);
    }

    this.consumerFunction = new PaymentFunction(this, 'Function', {
      entry: EXAMPLE_CONSUMER_ENTRY,
      description: 'Example subscriber of payment-events.fifo (inbox + per-payment sequence check)',
      timeout: props.timeout ?? Duration.seconds(30),
    });
    this.consumerFunction.bindTable(ENV.inboxTable, props.inboxTable, { actions: EXAMPLE_CONSUMER_INBOX_ACTIONS });
    this.consumerFunction.function.addEventSource(
      new SqsEventSource(props.queue, { batchSize, reportBatchItemFailures: true }),
    );
  }
}
