/**
 * Stages (`-c stage=NAME`, bin/app-stage.ts; lib/constructs/stage.ts): each stage is its own stack whose
 * physical names carry the stage, so `dev` and `prod` share an account and region without a collision.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { defineAppStack } from '../../bin/app-stack';
import { DEFAULT_STAGE, STAGE_CONTEXT, stageSettings } from '../../bin/app-stage';
import { PaymentOutboxStack } from '../../lib/payment-outbox-stack';
import { newTestApp } from '../support/cdk-stack';

/**
 * Properties that name a resource account- or region-wide (two stacks giving the same value collide).
 * Names that only have to be unique inside their own resource (an index, an attribute, a metric) are not here.
 */
const PHYSICAL_NAME_PROPERTIES: Readonly<Record<string, readonly string[]>> = {
  'AWS::SNS::Topic': ['TopicName'],
  'AWS::SQS::Queue': ['QueueName'],
  'AWS::ApiGateway::RestApi': ['Name'],
  'AWS::DynamoDB::Table': ['TableName'],
  'AWS::Lambda::Function': ['FunctionName'],
  'AWS::IAM::Role': ['RoleName'],
  'AWS::Logs::LogGroup': ['LogGroupName'],
  'AWS::SecretsManager::Secret': ['Name'],
  'AWS::CloudWatch::Alarm': ['AlarmName'],
  'AWS::CloudWatch::Dashboard': ['DashboardName'],
  'AWS::WAFv2::WebACL': ['Name'],
  'AWS::KMS::Alias': ['AliasName'],
  'AWS::Events::Rule': ['Name'],
  'AWS::Scheduler::Schedule': ['Name'],
};

/** Every physical name a template gives (type, property, value), and the fixed names of the functions' service dimension. */
function physicalNames(template: Template): string[] {
  const names: string[] = [];
  for (const resource of Object.values(template.toJSON().Resources as Record<string, { Type: string; Properties?: Record<string, unknown> }>)) {
    for (const property of PHYSICAL_NAME_PROPERTIES[resource.Type] ?? []) {
      const value = resource.Properties?.[property];
      if (value !== undefined) names.push(`${resource.Type} ${property} ${JSON.stringify(value)}`);
    }
  }
  return names;
}

/** The functions' `service` (log field and the dimension of every custom metric an alarm watches). */
function serviceNames(template: Template): Set<string> {
  const functions = template.findResources('AWS::Lambda::Function');
  return new Set(
    Object.values(functions).map((fn) => (fn.Properties?.Environment?.Variables as Record<string, string> | undefined)?.POWERTOOLS_SERVICE_NAME ?? ''),
  );
}

function appStack(context: Record<string, string>) {
  const stack = defineAppStack(newTestApp(context));
  return { stack, template: Template.fromStack(stack) };
}

/** Every variant of the app that adds named resources: the webhook subscriber, Toss, the web ACL. */
const FULL_APP = { notificationsWebhookUrl: 'https://notify.example.com/payments', pgWebAcl: 'true' };

describe('-c stage', () => {
  it('defaults to dev and names the stack PaymentOutbox-<stage>', () => {
    expect(stageSettings(newTestApp())).toEqual({ stage: DEFAULT_STAGE, stackName: 'PaymentOutbox-dev' });
    expect(stageSettings(newTestApp({ [STAGE_CONTEXT]: 'prod' }))).toEqual({ stage: 'prod', stackName: 'PaymentOutbox-prod' });
    expect(appStack({}).stack.stackName).toBe('PaymentOutbox-dev');
  });

  it.each(['Prod', 'a_b', '1st', 'x-', 'a--b', 'abcdefghijklm', ' '])('refuses the stage %j, saying what a stage may be', (stage) => {
    if (stage.trim() === '') {
      expect(stageSettings(newTestApp({ [STAGE_CONTEXT]: stage })).stage).toBe(DEFAULT_STAGE);
      return;
    }
    expect(() => stageSettings(newTestApp({ [STAGE_CONTEXT]: stage }))).toThrow(/-c stage: stage must be 1-12 characters/);
    expect(() => new PaymentOutboxStack(newTestApp(), 'S', { stage })).toThrow(/stage must be 1-12 characters/);
  });

  it('prefixes every physical name with the stage', () => {
    const { template } = appStack({ ...FULL_APP, [STAGE_CONTEXT]: 'prod' });
    const queues = Object.values(template.findResources('AWS::SQS::Queue')).map((queue) => queue.Properties?.QueueName as string);
    expect(queues.sort()).toEqual([
      'prod-notifications-dlq.fifo',
      'prod-notifications-sns-dlq.fifo',
      'prod-notifications.fifo',
      'prod-payment-events-dlq.fifo',
      'prod-payment-events-sns-dlq.fifo',
      'prod-payment-events.fifo',
      'prod-relay-failures',
    ]);
    template.hasResourceProperties('AWS::SNS::Topic', { TopicName: 'prod-payment-events.fifo' });
    template.hasResourceProperties('AWS::ApiGateway::RestApi', { Name: 'prod-payment-outbox' });
    template.hasResourceProperties('AWS::ApiGateway::Stage', { StageName: 'prod' });
    expect(serviceNames(template)).toEqual(new Set(['prod-payment-outbox']));
    template.hasOutput('Stage', { Value: 'prod' });
  });

  it.each([
    ['the sandbox app', {}],
    ['the app with a webhook subscriber and the PG web ACL', FULL_APP],
    ['the Toss app', { ...FULL_APP, paymentGateway: 'toss' }],
  ])('gives dev and prod stacks of %s no physical name in common', (_variant, context) => {
    const dev = appStack({ ...context, [STAGE_CONTEXT]: 'dev' }).template;
    const prod = appStack({ ...context, [STAGE_CONTEXT]: 'prod' }).template;
    const devNames = physicalNames(dev);
    const prodNames = new Set(physicalNames(prod));
    // The topic, the relay's failure queue, the API, and three queues per subscriber at least: the check has something to compare.
    expect(devNames.length).toBeGreaterThanOrEqual(6);
    expect(devNames.filter((name) => prodNames.has(name))).toEqual([]);
    expect([...serviceNames(dev)].filter((name) => serviceNames(prod).has(name))).toEqual([]);
  });

  it('keeps the plain names in a stack without a stage (a construct library user, the local runner)', () => {
    const template = Template.fromStack(new PaymentOutboxStack(newTestApp(), 'Unstaged'));
    template.hasResourceProperties('AWS::SNS::Topic', { TopicName: 'payment-events.fifo' });
    template.hasResourceProperties('AWS::SQS::Queue', { QueueName: 'relay-failures' });
    template.hasResourceProperties('AWS::ApiGateway::RestApi', { Name: 'payment-outbox' });
    expect(serviceNames(template)).toEqual(new Set(['payment-outbox']));
    expect(Object.keys(template.findOutputs('Stage'))).toEqual([]);
  });

  it('outputs every table the outbox CLI needs, and each subscriber SNS DLQ URL', () => {
    const { template } = appStack({});
    for (const output of ['OutboxTableName', 'PaymentsTableName', 'IdempotencyTableName', 'PgAttemptsTableName', 'SandboxPgLedgerTableName', 'PaymentEventsSnsDlqUrl']) {
      expect(Object.keys(template.findOutputs(output))).toEqual([output]);
    }
  });
});
