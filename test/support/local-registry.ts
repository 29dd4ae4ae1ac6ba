/**
 * A hand-written local registry (what the runner knows about each emulated resource once it has
 * created it) for unit tests of how CloudFormation values resolve locally: a table with a stream,
 * a FIFO queue, a FIFO topic and a function, plus resources that are not emulated (a KMS key and
 * two Secrets Manager secrets).
 */
import type { LocalRegistry } from '../../local/template/intrinsics';

export const localRegistry: LocalRegistry = {
  region: 'us-east-1',
  stackName: 'PaymentOutbox',
  tables: new Map([['OutboxTable', { tableName: 'OutboxTable', arn: 'arn:aws:dynamodb:us-east-1:000000000000:table/OutboxTable', streamArn: 'arn:stream' }]]),
  queues: new Map([['Q', { queueName: 'q.fifo', url: 'http://sqs.us-east-1.localhost:4566/000000000000/q.fifo', arn: 'arn:aws:sqs:us-east-1:000000000000:q.fifo' }]]),
  topics: new Map([['Topic', { topicName: 't.fifo', arn: 'arn:aws:sns:us-east-1:000000000000:t.fifo' }]]),
  functions: new Map([['Fn', { functionName: 'Fn', arn: 'arn:aws:lambda:us-east-1:000000000000:function:Fn' }]]),
  resourceTypes: {
    OutboxTable: 'AWS::DynamoDB::Table',
    Q: 'AWS::SQS::Queue',
    Topic: 'AWS::SNS::Topic',
    Fn: 'AWS::Lambda::Function',
    Key: 'AWS::KMS::Key',
    Secret: 'AWS::SecretsManager::Secret',
    HookSecret: 'AWS::SecretsManager::Secret',
  },
};
