/** How the local runner resolves CloudFormation values (local/template/intrinsics.ts), on a hand-written registry. */
import { describe, expect, it } from 'vitest';
import { resolveString } from '../../local/template/intrinsics';
import { localRegistry as registry } from '../support/local-registry';

describe('resolving CloudFormation values locally', () => {
  it('resolves Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select and pseudo parameters', () => {
    expect(resolveString({ Ref: 'Q' }, registry, 'test')).toBe('http://sqs.us-east-1.localhost:4566/000000000000/q.fifo');
    expect(resolveString({ Ref: 'OutboxTable' }, registry, 'test')).toBe('OutboxTable');
    expect(resolveString({ 'Fn::GetAtt': ['Q', 'Arn'] }, registry, 'test')).toBe('arn:aws:sqs:us-east-1:000000000000:q.fifo');
    expect(resolveString({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':x:', { Ref: 'AWS::Region' }]] }, registry, 'test')).toBe('arn:aws:x:us-east-1');
    expect(resolveString({ 'Fn::Sub': '${OutboxTable}/${Q.QueueName}@${AWS::AccountId}' }, registry, 'test')).toBe('OutboxTable/q.fifo@000000000000');
    expect(resolveString({ 'Fn::Select': [1, { 'Fn::Split': ['/', 'a/b/c'] }] }, registry, 'test')).toBe('b');
  });

  it('resolves a Ref to a topic to its ARN, as CloudFormation does, and its TopicName attribute', () => {
    expect(resolveString({ Ref: 'Topic' }, registry, 'test')).toBe('arn:aws:sns:us-east-1:000000000000:t.fifo');
    expect(resolveString({ 'Fn::GetAtt': ['Topic', 'TopicName'] }, registry, 'test')).toBe('t.fifo');
  });

  it('gives a resource that is not emulated a placeholder ARN and reports it', () => {
    const reported: string[] = [];
    const value = resolveString({ 'Fn::GetAtt': ['Key', 'Arn'] }, registry, 'Fn environment KEY', (id, type) => reported.push(`${id} ${type}`));
    expect(value).toBe('arn:aws:kms:us-east-1:000000000000:local/Key');
    expect(reported).toEqual(['Key AWS::KMS::Key']);
  });
});
