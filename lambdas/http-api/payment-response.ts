import type { APIGatewayProxyResult } from 'aws-lambda';
import type { ChangeOutcome } from '../use-cases/apply-change';
import { jsonResponse } from './responses';

/** A state change's answer; replays are flagged so callers can tell them apart. */
export function changeResponse(outcome: ChangeOutcome): APIGatewayProxyResult {
  return jsonResponse(outcome.statusCode, outcome.payment, outcome.replayed ? { 'Idempotent-Replayed': 'true' } : {});
}
