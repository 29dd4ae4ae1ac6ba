import { describe, expect, it } from 'vitest';
import {
  decideSequence,
  InvalidEnvelopeError,
  parseEnvelope,
  paymentProjectionEffect,
  SequenceGapError,
} from '../../lambdas/domain/consumer-rules';
import { envelope } from '../support/stream-events';

describe('parseEnvelope', () => {
  it('returns the envelope of a well-formed body', () => {
    const event = envelope('pay-1', 2);

    expect(parseEnvelope(JSON.stringify(event))).toEqual(event);
  });

  it('drops unknown top-level attributes but keeps new snapshot fields', () => {
    const event = envelope('pay-1', 1, { data: { futureField: 'kept' } });

    const parsed = parseEnvelope(JSON.stringify({ ...event, traceparent: '00-abc' }));

    expect(parsed).not.toHaveProperty('traceparent');
    expect(parsed.data).toHaveProperty('futureField', 'kept');
  });

  it.each([
    ['text that is not JSON', 'not json', 'message body is not JSON'],
    ['a JSON array', '[]', 'message body is not an event envelope: body: '],
    ['a missing eventId', JSON.stringify({ ...envelope('p', 1), eventId: undefined }), ': eventId: '],
    ['a string sequence', JSON.stringify({ ...envelope('p', 1), sequence: '1' }), ': sequence: '],
    ['sequence 0', JSON.stringify({ ...envelope('p', 1), sequence: 0 }), ': sequence: '],
    ['an unknown type', JSON.stringify({ ...envelope('p', 1), type: 'payment.exploded' }), ': type: '],
    ['another schema version', JSON.stringify({ ...envelope('p', 1), schemaVersion: 2 }), ': schemaVersion: '],
    ['an unknown status', JSON.stringify(envelope('p', 1, { data: { status: 'LOST' } })), ': data.status: '],
    [
      'a snapshot of another payment',
      JSON.stringify(envelope('p', 1, { data: { paymentId: 'q' } })),
      ': data.paymentId: data.paymentId differs from aggregateId',
    ],
  ])('rejects %s with InvalidEnvelopeError', (_name, body, message) => {
    let caught: unknown;
    try {
      parseEnvelope(body);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidEnvelopeError);
    expect((caught as Error).message).toContain(message);
  });
});

describe('decideSequence', () => {
  it.each([
    [1, 0, { action: 'apply' }],
    [4, 3, { action: 'apply' }],
    [3, 3, { action: 'skip' }],
    [1, 3, { action: 'skip' }],
    [5, 3, { action: 'gap', expectedSequence: 4 }],
    [2, 0, { action: 'gap', expectedSequence: 1 }],
  ])('sequence %i after %i applied: %o', (sequence, lastApplied, decision) => {
    expect(decideSequence(sequence, lastApplied)).toEqual(decision);
  });
});

describe('SequenceGapError', () => {
  it('is named and says which sequence is awaited', () => {
    const error = new SequenceGapError('pay-1', 4, 6);

    expect(error.name).toBe('SequenceGapError');
    expect(error.message).toBe('Aggregate pay-1 expects sequence 4, received 6');
  });
});

describe('paymentProjectionEffect', () => {
  it('takes the status of the snapshot', () => {
    expect(paymentProjectionEffect(envelope('p', 2, { type: 'payment.cancelled' }))).toEqual({ status: 'CANCELLED' });
  });
});
