/**
 * A message the consumer keeps failing goes to the FIFO DLQ after maxReceiveCount, and the rest
 * of the queue (other payments) keeps flowing meanwhile.
 */
import { GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PAYMENT_EVENTS_DLQ, PAYMENT_EVENTS_QUEUE, receiveMessages, startTestStack, type LocalStack } from '../support/local-stack-harness';
import { violations, waitUntilApplied } from '../support/consumer-projection';
import { drivePayments } from '../support/payment-driver';

let stack: LocalStack;
beforeAll(async () => {
  // Failed messages come back after 1 s instead of the queue's visibility timeout (180 s).
  stack = await startTestStack({ consumers: true, sqsFailedMessageVisibilitySeconds: 1 });
});
afterAll(() => stack?.stop());

function maxReceiveCount(): number {
  const queue = Object.values(stack.template.Resources).find(
    (r) => r.Type === 'AWS::SQS::Queue' && (r.Properties as { QueueName?: string })?.QueueName === PAYMENT_EVENTS_QUEUE,
  );
  const policy = (queue?.Properties as { RedrivePolicy?: { maxReceiveCount?: number } })?.RedrivePolicy;
  if (!policy?.maxReceiveCount) throw new Error('payment-events.fifo has no RedrivePolicy in the template');
  return policy.maxReceiveCount;
}

it('dead-letters a poison message after maxReceiveCount while other payments keep flowing', async () => {
  await stack.clients.sqs.send(
    new SendMessageCommand({
      QueueUrl: stack.queueUrl(PAYMENT_EVENTS_QUEUE),
      MessageBody: '{"this is": "not an event envelope"',
      MessageGroupId: 'poison-group',
      MessageDeduplicationId: `poison-${Date.now()}`,
    }),
  );

  const versions = await drivePayments(stack, 20);
  const applied = await waitUntilApplied(stack, versions, 60_000);
  expect(violations(versions, applied)).toEqual([]);

  const [dead] = await receiveMessages(stack, PAYMENT_EVENTS_DLQ, { count: 1, timeoutMs: 60_000, keep: true });
  expect(dead?.Body).toBe('{"this is": "not an event envelope"');
  expect(dead?.Attributes?.MessageGroupId).toBe('poison-group');
  expect(Number(dead?.Attributes?.ApproximateReceiveCount)).toBeGreaterThanOrEqual(1);

  const { Attributes } = await stack.clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: stack.queueUrl(PAYMENT_EVENTS_QUEUE), AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  expect(Number(Attributes?.ApproximateNumberOfMessages) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible)).toBe(0);
  expect(stack.pollers.queue('example-consumer').stats.failed).toBeGreaterThanOrEqual(maxReceiveCount());
});
