import { createHmac, randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import {
  formatWebhookSecret,
  signedWebhookHeaders,
  verifyWebhook,
  WebhookSecretFormatError,
  webhookSignature,
  webhookSigningKeys,
} from '../../lambdas/domain/webhook-signature';
import { envelope } from '../support/stream-events';

const KEY = Buffer.from('0123456789abcdef0123456789abcdef');
const SECRET = formatWebhookSecret(KEY);
const NEW_SECRET = formatWebhookSecret(Buffer.from('fedcba9876543210fedcba9876543210'));
const OTHER_SECRET = formatWebhookSecret(Buffer.from('someone else entirely, 32 bytes!'));
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

describe('webhook secrets', () => {
  it('are whsec_ and the key in base64; the prefix is optional, several keys are separated by spaces', () => {
    expect(SECRET).toBe(`whsec_${KEY.toString('base64')}`);
    expect(webhookSigningKeys(SECRET)).toEqual([KEY]);
    expect(webhookSigningKeys(KEY.toString('base64'))).toEqual([KEY]);
    expect(webhookSigningKeys(` ${SECRET}  ${NEW_SECRET} `)).toHaveLength(2);
  });

  it('take the stack\'s Secrets Manager value (64 letters and digits) as base64, as the stock libraries do', () => {
    const generated = 'Ab3'.repeat(21) + 'Z';
    expect(webhookSigningKeys(generated)).toEqual([Buffer.from(generated, 'base64')]);
    expect(webhookSigningKeys(generated)[0]).toHaveLength(48);
  });

  it.each(['', '   ', 'whsec_', 'whsec_not base64!', 'handler', 'whsec_abc'])('refuse %j, without echoing it', (secret) => {
    expect(() => webhookSigningKeys(secret)).toThrow(WebhookSecretFormatError);
    if (secret.trim() !== '') expect(() => webhookSigningKeys(secret)).toThrow(/is not whsec_<base64>/);
  });
});

describe('webhookSignature', () => {
  it('is v1, and the base64 HMAC-SHA256 of "<id>.<timestamp>.<body>" under the key', () => {
    const expected = createHmac('sha256', KEY).update(`evt-1.${NOW_SECONDS}.${body}`).digest('base64');

    expect(webhookSignature(KEY, 'evt-1', NOW_SECONDS, body)).toBe(`v1,${expected}`);
  });

  it('signs bytes and the same text alike', () => {
    expect(webhookSignature(KEY, 'e', 1, Buffer.from('{"a":"é"}', 'utf8'))).toBe(webhookSignature(KEY, 'e', 1, '{"a":"é"}'));
  });
});

describe('signedWebhookHeaders', () => {
  it('carries the Standard Webhooks headers and the event id, type, sequence and payment id', () => {
    expect(signed()).toEqual({
      'Content-Type': 'application/json',
      'webhook-id': 'evt-pay-1-2',
      'webhook-timestamp': String(NOW_SECONDS),
      'webhook-signature': webhookSignature(KEY, 'evt-pay-1-2', NOW_SECONDS, body),
      'X-Event-Id': 'evt-pay-1-2',
      'X-Event-Type': 'payment.approved',
      'X-Event-Sequence': '2',
      'X-Aggregate-Id': 'pay-1',
    });
  });

  it('signs with every key of a rotation, space-separated', () => {
    const headers = signed({ secret: `${NEW_SECRET} ${SECRET}` });
    expect(headers['webhook-signature']!.split(' ')).toEqual([
      webhookSignature(webhookSigningKeys(NEW_SECRET)[0]!, 'evt-pay-1-2', NOW_SECONDS, body),
      webhookSignature(KEY, 'evt-pay-1-2', NOW_SECONDS, body),
    ]);
  });
});

describe('a stock Standard Webhooks library (the standardwebhooks npm package)', () => {
  it('verifies our requests with the secret as we give it, with or without the whsec_ prefix', () => {
    const headers = signedWebhookHeaders({ event, body, secret: SECRET, timestamp: Math.floor(Date.now() / 1000) });
    expect(new Webhook(SECRET).verify(body, headers)).toEqual(event);
    expect(new Webhook(KEY.toString('base64')).verify(body, headers)).toEqual(event);
  });

  it('verifies a request signed during a rotation with either key, and refuses a third key and a tampered body', () => {
    const headers = signedWebhookHeaders({ event, body, secret: `${SECRET} ${NEW_SECRET}`, timestamp: Math.floor(Date.now() / 1000) });
    expect(new Webhook(SECRET).verify(body, headers)).toEqual(event);
    expect(new Webhook(NEW_SECRET).verify(body, headers)).toEqual(event);
    expect(() => new Webhook(OTHER_SECRET).verify(body, headers)).toThrow();
    expect(() => new Webhook(SECRET).verify(body.replace('"amount":15000', '"amount":1'), headers)).toThrow();
  });

  it('takes the stack\'s generated secret value as it is', () => {
    const generated = randomBytes(48).toString('base64').replace(/[+/]/g, 'A');
    const headers = signedWebhookHeaders({ event, body, secret: generated, timestamp: Math.floor(Date.now() / 1000) });
    expect(new Webhook(generated).verify(body, headers)).toEqual(event);
  });

  it('is matched by our verifier on a request the library signed', () => {
    const timestamp = new Date();
    const signature = new Webhook(SECRET).sign('evt-pay-1-2', timestamp, body);
    const headers = { 'webhook-id': 'evt-pay-1-2', 'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)), 'webhook-signature': signature };
    expect(verifyWebhook({ rawBody: body, headers, secret: SECRET, now: timestamp })).toMatchObject({ ok: true });
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
      message: 'webhook-signature does not match the body',
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
    const headers = signed({ secret: OTHER_SECRET });

    expect(verifyWebhook({ rawBody: body, headers, secret: SECRET, now: NOW })).toMatchObject({ ok: false, reason: 'signature-mismatch' });
  });

  it('rejects a timestamp changed after signing (it is part of the signed text)', () => {
    const headers = { ...signed(), 'webhook-timestamp': String(NOW_SECONDS - 1) };

    expect(verifyWebhook({ rawBody: body, headers, secret: SECRET, now: NOW })).toMatchObject({ ok: false, reason: 'signature-mismatch' });
  });

  it('rejects an id changed after signing (it is part of the signed text)', () => {
    const headers = { ...signed(), 'webhook-id': 'evt-other' };

    expect(verifyWebhook({ rawBody: body, headers, secret: SECRET, now: NOW })).toMatchObject({ ok: false, reason: 'signature-mismatch' });
  });

  it('accepts any of several secrets during a rotation, on either side', () => {
    const headers = signed({ secret: NEW_SECRET });

    expect(verifyWebhook({ rawBody: body, headers, secret: [SECRET, NEW_SECRET], now: NOW }).ok).toBe(true);
    expect(verifyWebhook({ rawBody: body, headers, secret: `${SECRET} ${NEW_SECRET}`, now: NOW }).ok).toBe(true);
    expect(verifyWebhook({ rawBody: body, headers, secret: [SECRET], now: NOW })).toMatchObject({ reason: 'signature-mismatch' });
    expect(verifyWebhook({ rawBody: body, headers: signed({ secret: `${SECRET} ${NEW_SECRET}` }), secret: SECRET, now: NOW }).ok).toBe(true);
  });

  it('skips signature entries of other versions, and needs one v1 entry', () => {
    const v1 = signed()['webhook-signature']!;
    expect(verifyWebhook({ rawBody: body, headers: { ...signed(), 'webhook-signature': `v1a,abc ${v1}` }, secret: SECRET, now: NOW }).ok).toBe(true);
    expect(verifyWebhook({ rawBody: body, headers: { ...signed(), 'webhook-signature': `v2,${v1.slice(3)}` }, secret: SECRET, now: NOW })).toMatchObject({
      reason: 'bad-format',
    });
  });

  it('throws on a malformed secret of the receiver (its configuration), not on the request', () => {
    expect(() => verifyWebhook({ rawBody: body, headers: signed(), secret: 'not base64!', now: NOW })).toThrow(WebhookSecretFormatError);
  });

  it('rejects a stale timestamp (a replayed request) beyond the 300 s default tolerance', () => {
    const headers = signed({ timestamp: NOW_SECONDS - 301 });

    expect(verifyWebhook({ rawBody: body, headers, secret: SECRET, now: NOW })).toEqual({
      ok: false,
      reason: 'stale-timestamp',
      message: 'webhook-timestamp is 301 s old (tolerance 300 s)',
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
      message: 'webhook-timestamp is 400 s ahead (tolerance 300 s)',
    });
  });

  it('applies a custom tolerance', () => {
    const headers = signed({ timestamp: NOW_SECONDS - 31 });

    expect(verifyWebhook({ rawBody: body, headers, secret: SECRET, now: NOW, toleranceSeconds: 30 })).toMatchObject({
      reason: 'stale-timestamp',
    });
  });

  it('checks the timestamp before the signature, so a stale replay is named as such', () => {
    const headers = signed({ timestamp: NOW_SECONDS - 3600, secret: OTHER_SECRET });

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
    ['webhook-id', 'webhook-id header is missing'],
    ['webhook-timestamp', 'webhook-timestamp header is missing'],
    ['webhook-signature', 'webhook-signature header is missing'],
  ])('rejects a request without %s', (name, message) => {
    const { [name]: _removed, ...headers } = signed();

    expect(verifyWebhook({ rawBody: body, headers, secret: SECRET, now: NOW })).toEqual({ ok: false, reason: 'missing-header', message });
  });

  it.each([
    ['a signature without the v1, prefix', { 'webhook-signature': 'a'.repeat(43) + '=' }, 'webhook-signature has no v1,<base64 HMAC-SHA256> entry'],
    ['a short signature', { 'webhook-signature': 'v1,abc' }, 'webhook-signature has no v1,<base64 HMAC-SHA256> entry'],
    ['our old hex scheme', { 'webhook-signature': `sha256=${'a'.repeat(64)}` }, 'webhook-signature has no v1,<base64 HMAC-SHA256> entry'],
    ['a timestamp in milliseconds with a fraction', { 'webhook-timestamp': '1795568400.5' }, 'webhook-timestamp must be whole Unix seconds'],
    ['a date as timestamp', { 'webhook-timestamp': 'Wed, 25 Nov 2026 01:00:00 GMT' }, 'webhook-timestamp must be whole Unix seconds'],
    ['a negative timestamp', { 'webhook-timestamp': '-5' }, 'webhook-timestamp must be whole Unix seconds'],
  ])('rejects %s as bad format', (_case, override, message) => {
    const headers = { ...signed(), ...override };

    expect(verifyWebhook({ rawBody: body, headers, secret: SECRET, now: NOW })).toEqual({ ok: false, reason: 'bad-format', message });
  });

  it('rejects a header repeated with different values', () => {
    const headers = { ...signed(), 'WEBHOOK-SIGNATURE': 'v1,' + 'a'.repeat(43) + '=' };

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

  it('rejects a request correctly signed under another webhook-id than the body\'s eventId', () => {
    const headers = { ...signed(), 'webhook-id': 'evt-other', 'webhook-signature': webhookSignature(KEY, 'evt-other', NOW_SECONDS, body) };

    expect(verifyWebhook({ rawBody: body, headers, secret: SECRET, now: NOW })).toEqual({
      ok: false,
      reason: 'header-mismatch',
      message: 'webhook-id header disagrees with the signed body',
    });
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
