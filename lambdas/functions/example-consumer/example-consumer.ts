/**
 * Example subscriber of `payment-events.fifo`: keeps a projection of each payment's status in
 * the Inbox table, applying every event exactly once and in sequence order through the consumer
 * guard (inbox by event id, sequence check, partial batch responses per message group), as
 * `@payment-outbox/consumer` ships it.
 */
// The consumer package's entries (packages/consumer/src), by path: a fresh clone bundles and tests
// this function without building the package first.
import { guardedFifoConsumer, paymentProjectionEffect } from '../../../packages/consumer/src';
import { DynamoDbPaymentInbox } from '../../../packages/consumer/src/dynamodb';
import { ENV } from '../../platform/env-names';
import { defineFunction, type Environment, type FunctionRuntime } from '../../platform/function-runtime';
import { observedHandler } from '../../platform/observed-handler';
import { positiveIntEnv, requiredEnv } from '../../platform/required-env';

export interface ExampleConsumerConfig {
  readonly inboxTable: string;
  readonly inboxRetentionDays: number;
}

export function exampleConsumerConfigFromEnv(env: Environment): ExampleConsumerConfig {
  return { inboxTable: requiredEnv(ENV.inboxTable, env), inboxRetentionDays: positiveIntEnv(ENV.inboxRetentionDays, 30, env) };
}

export function createExampleConsumerHandler(config: ExampleConsumerConfig, runtime: FunctionRuntime) {
  const { logger, metrics } = runtime;
  const inbox = new DynamoDbPaymentInbox(
    runtime.aws.documents,
    { tableName: config.inboxTable, retentionDays: config.inboxRetentionDays },
    runtime.clock,
  );
  const consume = guardedFifoConsumer({ store: inbox, apply: paymentProjectionEffect, logger, metrics });
  return observedHandler(consume, runtime);
}

export const exampleConsumer = defineFunction({ configFromEnv: exampleConsumerConfigFromEnv, createHandler: createExampleConsumerHandler });
