/**
 * What the relay and the sweeper share: both publish outbox events to the `payment-events.fifo`
 * SNS FIFO topic and mark them published in the Outbox table.
 */
import { DynamoDbPublicationLedger } from '../../adapters/dynamodb-publication-ledger';
import { SnsEventPublisher } from '../../adapters/sns-event-publisher';
import { ENV } from '../../platform/env-names';
import type { Environment, FunctionRuntime } from '../../platform/function-runtime';
import { requiredEnv } from '../../platform/required-env';
import type { Clock } from '../../ports/clock';
import type { EventPublisher } from '../../ports/event-publisher';
import type { PublicationLedger } from '../../ports/publication-ledger';

export interface OutboxPublicationConfig {
  readonly topicArn: string;
  readonly outboxTable: string;
}

export function outboxPublicationConfigFromEnv(env: Environment): OutboxPublicationConfig {
  return { topicArn: requiredEnv(ENV.paymentEventsTopicArn, env), outboxTable: requiredEnv(ENV.outboxTable, env) };
}

export interface OutboxPublication {
  readonly clock: Clock;
  readonly publisher: EventPublisher;
  readonly ledger: PublicationLedger;
}

export function createOutboxPublication(config: OutboxPublicationConfig, runtime: FunctionRuntime): OutboxPublication {
  return {
    clock: runtime.clock,
    publisher: new SnsEventPublisher(runtime.aws.sns, config.topicArn),
    ledger: new DynamoDbPublicationLedger(runtime.aws.documents, { tableName: config.outboxTable }, runtime.clock),
  };
}
