/**
 * The local runner's reading of the real synthesized template (local/template/resolve.ts
 * readTemplate): functions and their entries, API routes, the relay's mapping settings, schedules,
 * queue order, the topic and its subscriptions. The template is synthesized exactly as the runner
 * does it (local/template/synthesize.ts synthesizeTemplate: stack id PaymentOutbox, the app's
 * subscribers from bin/app-subscribers.ts, cdk.json's context, bundling skipped), without the state
 * directory's cache, so no emulator, Java or state directory is involved.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { LocalStartupError } from '../../local/errors';
import { synthesizeTemplate } from '../../local/template/synthesize';
import { readTemplate, type LocalModel } from '../../local/template/resolve';
import type { CfnTemplate } from '../../local/template/types';
import { RELAY_STREAM_FILTER } from '../../lib/constructs/outbox-relay';

let template: CfnTemplate;
let model: LocalModel;

// A whole in-process synthesis: about 6 s alone, longer while other suites bundle in parallel.
beforeAll(async () => {
  template = await synthesizeTemplate();
  model = readTemplate(template);
}, 60_000);

describe('reading the synthesized template', () => {
  it('finds a function with its entry for every function of the stack, and every API method as a route', () => {
    const functionCount = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function').length;
    expect(model.functions.length + model.skippedFunctions.length).toBe(functionCount);
    expect(model.functions.map((f) => f.entry)).toEqual(expect.arrayContaining(['lambdas/functions/outbox-relay/entry.ts', 'lambdas/functions/example-consumer/entry.ts']));
    expect(model.routes.map((r) => `${r.httpMethod} ${r.path}`)).toEqual(
      expect.arrayContaining(['POST /payments', 'GET /payments/{paymentId}', 'POST /payments/{paymentId}/confirm', 'POST /pg/webhooks/deposits']),
    );
  });

  it('reads the relay mapping settings as the template sets them', () => {
    const relay = model.functions.find((f) => f.shortName === 'outbox-relay');
    const mapping = model.streamMappings.find((m) => m.functionLogicalId === relay?.logicalId);
    const cfn = template.Resources[mapping?.logicalId as string]?.Properties ?? {};
    expect(mapping).toMatchObject({
      batchSize: cfn.BatchSize,
      startingPosition: 'TRIM_HORIZON',
      filterPatterns: [RELAY_STREAM_FILTER.pattern],
      bisectBatchOnFunctionError: cfn.BisectBatchOnFunctionError,
      maximumRetryAttempts: cfn.MaximumRetryAttempts,
      maximumRecordAgeInSeconds: cfn.MaximumRecordAgeInSeconds,
      reportBatchItemFailures: true,
      onFailureQueueLogicalId: expect.any(String),
    });
  });

  it('reads rate(...) schedule rules with their period and target function', () => {
    const rules = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::Events::Rule' && r.Properties?.ScheduleExpression);
    expect(model.schedules.map((s) => s.logicalId).sort()).toEqual(rules.map(([id]) => id).sort());
    for (const schedule of model.schedules) {
      const minutes = /^rate\((\d+) minutes?\)$/.exec(schedule.expression)?.[1];
      if (minutes) expect(schedule.rateSeconds).toBe(Number(minutes) * 60);
      expect(model.functions.map((f) => f.logicalId)).toContain(schedule.functionLogicalId);
    }
  });

  it('lists every dead-letter queue before the queue that redrives to it', () => {
    const order = model.queues.map((q) => q.logicalId);
    for (const queue of model.queues.filter((q) => q.redrive)) {
      expect(order.indexOf(queue.redrive?.deadLetterQueueLogicalId as string)).toBeLessThan(order.indexOf(queue.logicalId));
    }
  });

  it('refuses an event source it cannot play, naming the resource', () => {
    const broken = {
      Resources: {
        ...template.Resources,
        Kinesis: { Type: 'AWS::Kinesis::Stream', Properties: {} },
        KinesisMapping: {
          Type: 'AWS::Lambda::EventSourceMapping',
          Properties: { FunctionName: { Ref: model.functions[0]?.logicalId as string }, EventSourceArn: { 'Fn::GetAtt': ['Kinesis', 'Arn'] } },
        },
      },
    };
    expect(() => readTemplate(broken)).toThrow(new LocalStartupError('template resource KinesisMapping: only DynamoDB stream and SQS event sources of this template can be played locally'));
  });
});

describe('reading SNS topics and subscriptions', () => {
  it('gives the synthesized stack one FIFO topic that every subscriber queue is subscribed to with raw delivery', () => {
    expect(model.topics.map((t) => [t.topicName, t.fifo])).toEqual([['payment-events.fifo', true]]);
    const subscribed = model.subscriptions.map((s) => model.queues.find((q) => q.logicalId === s.queueLogicalId)?.queueName).sort();
    expect(subscribed).toEqual(expect.arrayContaining(['notifications.fifo', 'payment-events.fifo']));
    expect(model.subscriptions.every((s) => s.rawMessageDelivery && s.topicLogicalId === model.topics[0]?.logicalId)).toBe(true);
  });
});
