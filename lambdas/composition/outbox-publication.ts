/**
 * Composition root shared by the relay and the sweeper: both publish outbox events to the
 * `payment-events.fifo` SNS FIFO topic and mark them published in the Outbox table. Built once
 * per cold start from the validated environment.
 */
import { dynamoDocumentClient, snsClient } from '../adapters/aws-clients';
import { DynamoDbPublicationLedger } from '../adapters/dynamodb-publication-ledger';
import { SnsEventPublisher } from '../adapters/sns-event-publisher';
import { ENV } from '../config/env-names';
import { requiredEnv } from '../config/required-env';
import type { Clock } from '../ports/clock';
import type { EventPublisher } from '../ports/event-publisher';
import type { PublicationLedger } from '../ports/publication-ledger';

export interface OutboxPublication {
  readonly clock: Clock;
  readonly publisher: EventPublisher;
  readonly ledger: PublicationLedger;
}

export function outboxPublicationFromEnv(): OutboxPublication {
  const clock: Clock = { now: () => new Date() };
  return {
    clock,
    publisher: new SnsEventPublisher(snsClient(), requiredEnv(ENV.paymentEventsTopicArn)),
    ledger: new DynamoDbPublicationLedger(dynamoDocumentClient(), { tableName: requiredEnv(ENV.outboxTable) }, clock),
  };
}
