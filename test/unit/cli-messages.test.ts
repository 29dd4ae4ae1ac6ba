import { describe, expect, it } from 'vitest';
import { deduplicationId, entryBytes, fromSqsMessage, inspectMessage, newRunId, redriveRequest, replayEntry } from '../../cli/messages';
import { envelope } from '../support/stream-events';

describe('deduplicationId', () => {
  it('is <eventId>:<purpose>:<runId>, new to the queue yet the same for a retried run', () => {
    expect(deduplicationId('0b6f7a1e-9c1d-4f57-9a43-5d1c0c7e2f10', 'replay', 'r1')).toBe('0b6f7a1e-9c1d-4f57-9a43-5d1c0c7e2f10:replay:r1');
    expect(deduplicationId('e', 'redrive', 'r1')).toBe(deduplicationId('e', 'redrive', 'r1'));
  });

  it('hashes an eventId that would not fit SQS\'s 128 printable characters', () => {
    const id = deduplicationId('é'.repeat(10), 'redrive', 'r1');

    expect(id).toMatch(/^[0-9a-f]{64}:redrive:r1$/);
    expect(deduplicationId('x'.repeat(200), 'replay', 'r1').length).toBeLessThanOrEqual(128);
  });
});

describe('newRunId', () => {
  it('is a compact UTC time plus a random suffix', () => {
    expect(newRunId(new Date('2026-11-25T19:56:36.123Z'), () => 'abc123')).toBe('20261125T195636Z-abc123');
  });
});

describe('replayEntry', () => {
  it('sends the envelope unchanged, grouped by payment, with the relay\'s attributes and a replay dedup id', () => {
    const event = envelope('pay_1', 2);

    const entry = replayEntry(event, '7', 'run-1');

    expect(entry).toEqual({
      Id: '7',
      MessageGroupId: 'pay_1',
      MessageDeduplicationId: 'evt-pay_1-2:replay:run-1',
      MessageBody: JSON.stringify(event),
      MessageAttributes: {
        eventType: { DataType: 'String', StringValue: 'payment.approved' },
        sequence: { DataType: 'Number', StringValue: '2' },
        aggregateId: { DataType: 'String', StringValue: 'pay_1' },
        eventId: { DataType: 'String', StringValue: 'evt-pay_1-2' },
        replayRunId: { DataType: 'String', StringValue: 'run-1' },
      },
    });
    expect(entryBytes(entry)).toBeGreaterThan(Buffer.byteLength(entry.MessageBody ?? ''));
  });
});

describe('fromSqsMessage and inspectMessage', () => {
  const sdkMessage = (body: string, group = 'pay_1') => ({
    MessageId: 'm1',
    ReceiptHandle: 'rh',
    Body: body,
    Attributes: { MessageGroupId: group, MessageDeduplicationId: 'd', ApproximateReceiveCount: '6', SentTimestamp: '1795564800000' },
    MessageAttributes: { sequence: { DataType: 'Number', StringValue: '1' } },
  });

  it('flattens the system attributes a listing shows', () => {
    expect(fromSqsMessage(sdkMessage('{}'))).toMatchObject({ messageId: 'm1', groupId: 'pay_1', deduplicationId: 'd', receiveCount: 6, sentAt: 1795564800000 });
  });

  it('accepts a valid envelope in its payment\'s group and names what is wrong otherwise', () => {
    const body = JSON.stringify(envelope('pay_1', 1));

    expect(inspectMessage(fromSqsMessage(sdkMessage(body)))).toMatchObject({ ok: true, envelope: { aggregateId: 'pay_1', sequence: 1 } });
    expect(inspectMessage(fromSqsMessage(sdkMessage(body, 'pay_2')))).toEqual({ ok: false, problem: 'message group pay_2 differs from the envelope\'s aggregateId pay_1' });
    expect(inspectMessage(fromSqsMessage(sdkMessage('[1]')))).toMatchObject({ ok: false, problem: expect.stringMatching(/not an event envelope/) });
  });
});

describe('redriveRequest', () => {
  it('keeps body, group and attributes, adds the run id and a redrive dedup id', () => {
    const event = envelope('pay_1', 3);
    const message = fromSqsMessage({
      MessageId: 'm1',
      ReceiptHandle: 'rh',
      Body: JSON.stringify(event),
      Attributes: { MessageGroupId: 'pay_1' },
      MessageAttributes: { eventType: { DataType: 'String', StringValue: 'payment.approved', StringListValues: [] } },
    });

    expect(redriveRequest('http://q', message, event, 'r9')).toEqual({
      QueueUrl: 'http://q',
      MessageBody: JSON.stringify(event),
      MessageGroupId: 'pay_1',
      MessageDeduplicationId: 'evt-pay_1-3:redrive:r9',
      MessageAttributes: {
        eventType: { DataType: 'String', StringValue: 'payment.approved' },
        redriveRunId: { DataType: 'String', StringValue: 'r9' },
      },
    });
  });
});
