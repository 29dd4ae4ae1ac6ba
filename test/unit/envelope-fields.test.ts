import { describe, expect, it } from 'vitest';
import { envelopeFields } from '../../lambdas/domain/event-envelope';

describe('envelopeFields', () => {
  it('reads the routing fields of an envelope body', () => {
    const body = JSON.stringify({ eventId: 'e-1', type: 'payment.approved', aggregateId: 'p-1', sequence: 2, data: { status: 'APPROVED' } });
    expect(envelopeFields(body)).toEqual({ eventId: 'e-1', type: 'payment.approved', aggregateId: 'p-1', sequence: 2 });
  });

  it('keeps only the fields of the right type, and never throws', () => {
    expect(envelopeFields(JSON.stringify({ eventId: 7, type: 'payment.created', sequence: '3' }))).toEqual({ type: 'payment.created' });
    expect(envelopeFields('not json')).toEqual({});
    expect(envelopeFields('null')).toEqual({});
    expect(envelopeFields('42')).toEqual({});
  });
});
