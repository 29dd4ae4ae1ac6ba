/** Creates the template's queues in the SQS emulator, dead-letter queues first, with their redrive policies. */
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { LocalStartupError } from '../errors';
import type { LocalQueueRef } from '../template/intrinsics';
import type { QueueSpec } from '../template/resolve';

export interface CreatedQueue extends LocalQueueRef {
  readonly spec: QueueSpec;
}

/** `specs` must list dead-letter queues before their sources (readTemplate orders them so). */
export async function createQueues(client: SQSClient, specs: readonly QueueSpec[]): Promise<CreatedQueue[]> {
  const created = new Map<string, CreatedQueue>();
  for (const spec of specs) {
    const attributes = { ...spec.attributes };
    if (spec.redrive) {
      const dlq = created.get(spec.redrive.deadLetterQueueLogicalId);
      if (!dlq) throw new LocalStartupError(`queue ${spec.logicalId}: its dead-letter queue was not created first`);
      attributes.RedrivePolicy = JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: spec.redrive.maxReceiveCount });
    }
    const { QueueUrl: url } = await client.send(new CreateQueueCommand({ QueueName: spec.queueName, Attributes: attributes }));
    if (!url) throw new LocalStartupError(`queue ${spec.queueName}: the emulator returned no URL`);
    const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
    const arn = Attributes?.QueueArn;
    if (!arn) throw new LocalStartupError(`queue ${spec.queueName}: the emulator returned no ARN`);
    created.set(spec.logicalId, { spec, queueName: spec.queueName, url, arn });
  }
  return [...created.values()];
}
