import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signedWebhookHeaders, verifyWebhook, webhookSignature } from '../../lambdas/domain/webhook-signature';
import { envelope } from '../support/stream-events';

const SECRET = 'whsec_test_0123456789';
const NOW = new Date('2026-11-25T01:00:00.000Z');
const NOW_SECONDS = Math.floor(NOW.getTime() / 1000);
const event = envelope('pay-1', 2, { type: 'payment.approved' });
const body = JSON.stringify(event);

function signed(options: { timestamp?: number; secret?: string; payload?: string } = {}) {
  return signedWebhookHeaders({
    event,
    body: options.payload ?? body,
    secret: options.secret ?? SECRET,
    timestamp: options.timestamp ?? NOW_SECONDS,
  });
}

describe('webhookSignature', () => {
  it('is sha256= and the hex HMAC-SHA256 of "<timestamp>.<body>" under the secret', () => {
    const expected = createHmac('sha256', SECRET).update(`${NOW_SECONDS}.${body}`).digest('hex');

    expect(webhookSignature(SECRET, NOW_SECONDS, body)).toBe(`sha256=${expected}`);
  });

  it('signs bytes and the same text alike', () => {
    expect(webhookSignature(SECRET, 1, Buffer.from('{"a":"é"}', 'utf8'))).toBe(webhookSignature(SECRET, 1, '{"a":"é"}'));
  });
});

describe('signedWebhookHeaders', () => {
  it('carries the event id, type, sequence, payment id, timestamp and signature', () => {
    expect(signed()).toEqual({
      'Content-Type': 'application/json',
      'X-Event-Id': 'evt-pay-1-2',
      'X-Event-Type': 'payment.approved',
      'X-Event-Sequence': '2',
      'X-Aggregate-Id': 'pay-1',
      'X-Timestamp': String(NOW_SECONDS),
      'X-Signature': webhookSignature(SECRET, NOW_SECONDS, body),
    });
  });
});

describe('verifyWebhook', () => {
  it('accepts a request signed with the secret, within the window, and returns the event from the signed body', () => {
    const result = verifyWebhook({ rawBody: body, headers: signed(), secret: SECRET, now: NOW });

    expect(result).toEqual({
      ok: true,
      timestamp: NOW_SECONDS,
      event: { eventId: 'evt-pay-1-2', type: 'payment.approved', sequence: 2, aggregateId: 'pay-1' },
    });
  });

  it('accepts the body as bytes', () => {
    expect(verifyWebhook({ rawBody: Buffer.from(body), headers: signed(), secret: SECRET, now: NOW }).ok).toBe(true);
  });

  it('rejects a tampered body', () => {
    const tampered = body.replace('"amount":15000', '"amount":1');

    expect(verifyWebhook({ rawBody: tampered, headers: signed(), secret: SECRET, now: NOW })).toEqual({
      ok: false,
      reason: 'signature-mismatch',
      message: 'X-Signature does not match the body',
    });
  });

  it('rejects a body re-serialised with other whitespace (the signature covers the exact bytes)', () => {
    const reformatted = JSON.stringify(event, null, 2);

    expect(verifyWebhook({ rawBody: reformatted, headers: signed(), secret: SECRET, now: NOW })).toMatchObject({
      ok: false,
      reason: 'signature-mismatch',
    });
  });

  it('rejects a request signed with another secret', () => {
    const headers = signed({ secret: 'someone-else' });

    expect(verifyWebhook({ rawBody: body, headers, secret: SECRET, now: NOW })).toMatchObject({ ok: false, reason: 'signature-mismatch' });
  });

  it('rejects a timestamp changed after signing (it is part of the signed text)', () => {
    const headers = { ...signed(), 'X-Timestamp': String(NOW_SECONDS - 1) };

    expect(verifyWebhook({ rawBody: body, headers, secret: SECRET, now: NOW })).toMatchObject({ ok: false, reason: 'signature-mismatch' });
  });

  it('accepts any of several secrets during a rotation', () => {
    const headers = signed({ secret: 'new-secret' });

    expect(verifyWebhook({ rawBody: body, headers, secret: ['old-secret', 'new-secret'], now: NOW }).ok).toBe(true);
    expect(verifyWebhook({ rawBody: body, headers, secret: ['old-secret'], now: NOW })).toMatchObject({ reason: 'signature-mismatch' });
  });

  it('rejects a stale timestamp (a replayed request) beyond the 300 s default tolerance', () => {
    const headers = signed({ timestamp: NOW_SECONDS - 301 });

    expect(verifyWebhook({ rawBody: body, headers, secret: SECRET, now: NOW })).toEqual({
      ok: false,
      reason: 'stale-timestamp',
      message: 'X-Timestamp is 301 s old (tolerance 300 s)',
    });
  });

  it('accepts a timestamp exactly at the edge of the tolerance', () => {
    expect(verifyWebhook({ rawBody: body, headers: signed({ timestamp: NOW_SECONDS - 300 }), secret: SECRET, now: NOW }).ok).toBe(true);
    expect(verifyWebhook({ rawBody: body, headers: signed({ timestamp: NOW_SECONDS + 300 }), secret: SECRET, now: NOW }).ok).toBe(true);
  });

  it('rejects a timestamp from the future beyond the tolerance', () => {
    const headers = signed({ timestamp: NOW_SECONDS + 400 });

    expect(verifyWebhook({ rawBody: body, headers, secret: SECRET, now: NOW })).toEqual({
      ok: false,
      reason: 'future-timestamp',
      message: 'X-Timestamp is 400 s ahead (tolerance 300 s)',
    });
  });

  it('applies a custom tolerance', () => {
    const headers = signed({ timestamp: NOW_SECONDS - 31 });

    expect(verifyWebhook({ rawBody: body, headers, secret: SECRET, now: NOW, toleranceSeconds: 30 })).toMatchObject({
      reason: 'stale-timestamp',
    });
  });

  it('checks the timestamp before the signature, so a stale replay is named as such', () => {
    const headers = signed({ timestamp: NOW_SECONDS - 3600, secret: 'wrong' });

    expect(verifyWebhook({ rawBody: body, headers, secret: SECRET, now: NOW })).toMatchObject({ reason: 'stale-timestamp' });
  });

  it('takes now as epoch milliseconds too', () => {
    expect(verifyWebhook({ rawBody: body, headers: signed(), secret: SECRET, now: NOW.getTime() }).ok).toBe(true);
  });

  it('matches header names ignoring case (Node lower-cases them)', () => {
    const lower = Object.fromEntries(Object.entries(signed()).map(([name, value]) => [name.toLowerCase(), value]));
    const upper = Object.fromEntries(Object.entries(signed()).map(([name, value]) => [name.toUpperCase(), value]));

    expect(verifyWebhook({ rawBody: body, headers: lower, secret: SECRET, now: NOW }).ok).toBe(true);
    expect(verifyWebhook({ rawBody: body, headers: upper, secret: SECRET, now: NOW }).ok).toBe(true);
  });

  it('reads a Fetch API Headers object', () => {
    expect(verifyWebhook({ rawBody: body, headers: new Headers(signed()), secret: SECRET, now: NOW }).ok).toBe(true);
  });

  it.each([
    ['X-Timestamp', 'X-Timestamp header is missing'],
    ['X-Signature', 'X-Signature header is missing'],
  ])('rejects a request without %s', (name, message) => {
    const { [name]: _removed, ...headers } = signed();

    expect(verifyWebhook({ rawBody: body, headers, secret: SECRET, now: NOW })).toEqual({ ok: false, reason: 'missing-header', message });
  });

  it.each([
    ['a signature without the sha256= prefix', { 'X-Signature': 'a'.repeat(64) }, 'X-Signature must be sha256=<64 lower-case hex digits>'],
    ['a short signature', { 'X-Signature': 'sha256=abc' }, 'X-Signature must be sha256=<64 lower-case hex digits>'],
    ['another algorithm', { 'X-Signature': `sha1=${'a'.repeat(40)}` }, 'X-Signature must be sha256=<64 lower-case hex digits>'],
    ['a timestamp in milliseconds with a fraction', { 'X-Timestamp': '1795568400.5' }, 'X-Timestamp must be whole Unix seconds'],
    ['a date as timestamp', { 'X-Timestamp': 'Wed, 25 Nov 2026 01:00:00 GMT' }, 'X-Timestamp must be whole Unix seconds'],
    ['a negative timestamp', { 'X-Timestamp': '-5' }, 'X-Timestamp must be whole Unix seconds'],
  ])('rejects %s as bad format', (_case, override, message) => {
    const headers = { ...signed(), ...override };

    expect(verifyWebhook({ rawBody: body, headers, secret: SECRET, now: NOW })).toEqual({ ok: false, reason: 'bad-format', message });
  });

  it('rejects a header repeated with different values', () => {
    const headers = { ...signed(), 'x-signature': ['sha256=' + 'a'.repeat(64), signed()['X-Signature'] as string] };
    delete (headers as Record<string, unknown>)['X-Signature'];

    expect(verifyWebhook({ rawBody: body, headers, secret: SECRET, now: NOW })).toMatchObject({ ok: false, reason: 'bad-format' });
  });

  it.each([
    ['X-Event-Id', 'evt-other'],
    ['X-Event-Type', 'payment.cancelled'],
    ['X-Event-Sequence', '3'],
    ['X-Aggregate-Id', 'pay-2'],
  ])('rejects a request whose unsigned %s header disagrees with the signed body', (name, value) => {
    const headers = { ...signed(), [name]: value };

    expect(verifyWebhook({ rawBody: body, headers, secret: SECRET, now: NOW })).toEqual({
      ok: false,
      reason: 'header-mismatch',
      message: `${name} header disagrees with the signed body`,
    });
  });

  it('accepts a request without the informational event headers (the body is what is signed)', () => {
    const { 'X-Event-Id': _id, 'X-Event-Type': _type, 'X-Event-Sequence': _seq, 'X-Aggregate-Id': _agg, ...headers } = signed();

    expect(verifyWebhook({ rawBody: body, headers, secret: SECRET, now: NOW }).ok).toBe(true);
  });

  it('rejects a correctly signed body that is not a payment event', () => {
    const payload = '{"hello":"world"}';
    const headers = signed({ payload });

    expect(verifyWebhook({ rawBody: payload, headers, secret: SECRET, now: NOW })).toEqual({
      ok: false,
      reason: 'invalid-body',
      message: 'the signed body is not a payment event',
    });
  });
});
