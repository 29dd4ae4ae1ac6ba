/**
 * The chaos run's relay-failures path without a stack: poison records fail every invocation that
 * holds them (before the relay runs), and the on-failure messages are named back to the records
 * by their sequence numbers.
 */
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { PoisonRecordFailure, relayInvokeWrapper, type StreamRecordFaults } from '../../chaos/faults/relay-invocations';
import { nameRelayFailures, parseRelayFailure, type RelayFailureMessage } from '../../chaos/relay-failures';

/** An Outbox INSERT record of `<orderId>#<sequence>` at stream sequence number `streamSequence`. */
const record = (orderId: string, sequence: number, streamSequence: string): DynamoDBRecord => ({
  eventName: 'INSERT',
  dynamodb: {
    SequenceNumber: streamSequence,
    NewImage: { sequence: { N: String(sequence) }, data: { M: { orderId: { S: orderId } } } },
  },
});

describe('relay invocations with poison records', () => {
  const poisonOf = (...keys: string[]): StreamRecordFaults => ({
    skipRecord: () => false,
    poisonRecord: (r) => keys.includes(`${r.dynamodb?.NewImage?.data?.M?.orderId?.S}#${r.dynamodb?.NewImage?.sequence?.N}`),
  });

  it('fails the whole invocation before the relay runs when its batch holds a poison record, and shows every record first', async () => {
    const seen: string[] = [];
    const poisoned: string[] = [];
    let invoked = 0;
    const wrapper = relayInvokeWrapper(() => poisonOf('o2#1'), {
      seen: (records) => seen.push(...records.map((r) => r.dynamodb?.SequenceNumber ?? '?')),
      poisoned: (records) => poisoned.push(...records.map((r) => r.dynamodb?.SequenceNumber ?? '?')),
    });
    const invoke = async () => {
      invoked += 1;
      return { batchItemFailures: [] };
    };
    const event: DynamoDBStreamEvent = { Records: [record('o1', 1, '100'), record('o2', 1, '200'), record('o3', 1, '300')] };
    await expect(wrapper(event, invoke)).rejects.toBeInstanceOf(PoisonRecordFailure);
    expect(invoked).toBe(0);
    expect(seen).toEqual(['100', '200', '300']);
    expect(poisoned).toEqual(['200']);
    // The halves without it run.
    await expect(wrapper({ Records: [record('o1', 1, '100')] }, invoke)).resolves.toEqual({ batchItemFailures: [] });
    expect(invoked).toBe(1);
  });

  it('passes everything through when no faults are active', async () => {
    const wrapper = relayInvokeWrapper(() => undefined);
    await expect(wrapper({ Records: [record('o2', 1, '200')] }, async () => 'ran')).resolves.toBe('ran');
  });
});

describe('relay-failures messages', () => {
  /** The invocation record the event source mapping sends (the local stream poller's shape, AWS's). */
  const body = (start: string, end: string, batchSize: number) =>
    JSON.stringify({
      requestContext: { requestId: 'r', functionArn: 'arn:aws:lambda:eu-west-1:000000000000:function:relay', condition: 'RetryAttemptsExhausted', approximateInvokeCount: 3 },
      version: '1.0',
      DDBStreamBatchInfo: { shardId: 'shardId-1', startSequenceNumber: start, endSequenceNumber: end, batchSize, streamArn: 'arn:aws:dynamodb:eu-west-1:000000000000:table/Outbox/stream/x' },
    });

  it('parses an invocation record and refuses anything else', () => {
    expect(parseRelayFailure(body('200', '200', 1))).toEqual({ condition: 'RetryAttemptsExhausted', shardId: 'shardId-1', startSequenceNumber: '200', endSequenceNumber: '200', batchSize: 1 });
    expect(parseRelayFailure('{"hello":1}')).toBeUndefined();
    expect(parseRelayFailure('not json')).toBeUndefined();
  });

  it('names the records of each range by sequence number, compared as integers, once each', () => {
    // Sequence numbers longer than a double's precision, and one that sorts wrongly as a string.
    const keys = new Map([
      ['900000000000000000001', 'o1#1'],
      ['900000000000000000002', 'o2#1'],
      ['1000000000000000000003', 'o3#1'],
      ['99', 'o0#1'],
    ]);
    const messages = [parseRelayFailure(body('900000000000000000002', '1000000000000000000003', 2)), parseRelayFailure(body('900000000000000000002', '900000000000000000002', 1))] as RelayFailureMessage[];
    expect(nameRelayFailures(messages, keys)).toEqual({ keys: ['o2#1', 'o3#1'], unnamed: [] });
  });

  it('reports a message whose range holds fewer records than it says were given up', () => {
    const named = nameRelayFailures([parseRelayFailure(body('5', '9', 2)) as RelayFailureMessage], new Map([['7', 'o7#2']]));
    expect(named.keys).toEqual(['o7#2']);
    expect(named.unnamed).toEqual(['RetryAttemptsExhausted shardId-1 5..9: 2 record(s), 1 named']);
  });
});
