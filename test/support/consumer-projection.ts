/** Reads what the example consumer applied: its per-payment projection in the Inbox table. */
import { BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import type { LocalStack } from './local-stack-harness';

export interface AppliedProjection {
  readonly paymentId: string;
  readonly status: string;
  readonly lastSequence: number;
  /** Every sequence the consumer applied, in the order it applied them. */
  readonly appliedSequences: number[];
  readonly appliedCount: number;
}

export async function projections(stack: LocalStack, paymentIds: readonly string[]): Promise<Map<string, AppliedProjection>> {
  const found = new Map<string, AppliedProjection>();
  const table = stack.tableName('Inbox');
  for (let i = 0; i < paymentIds.length; i += 100) {
    let keys: Record<string, unknown>[] | undefined = paymentIds.slice(i, i + 100).map((id) => ({ pk: `payment#${id}` }));
    while (keys && keys.length > 0) {
      const page = await stack.clients.documents.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: keys, ConsistentRead: true } } }));
      for (const item of page.Responses?.[table] ?? []) found.set(String(item.paymentId), item as AppliedProjection);
      keys = page.UnprocessedKeys?.[table]?.Keys as Record<string, unknown>[] | undefined;
    }
  }
  return found;
}

/**
 * Waits until the consumer applied, for every payment, sequences 1..expected (or times out), and
 * returns the projections so the test can assert order and exactly-once.
 */
export async function waitUntilApplied(
  stack: LocalStack,
  expectedVersions: ReadonlyMap<string, number>,
  timeoutMs = 120_000,
): Promise<Map<string, AppliedProjection>> {
  const deadline = Date.now() + timeoutMs;
  let latest = new Map<string, AppliedProjection>();
  while (Date.now() < deadline) {
    latest = await projections(stack, [...expectedVersions.keys()]);
    const done = [...expectedVersions].every(([id, version]) => (latest.get(id)?.lastSequence ?? 0) >= version);
    if (done) return latest;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return latest;
}

/** Payments whose applied history is not exactly 1..expected, once each, in order. */
export function violations(expectedVersions: ReadonlyMap<string, number>, applied: ReadonlyMap<string, AppliedProjection>): string[] {
  const problems: string[] = [];
  for (const [paymentId, version] of expectedVersions) {
    const projection = applied.get(paymentId);
    const expected = Array.from({ length: version }, (_, i) => i + 1);
    const got = projection?.appliedSequences ?? [];
    if (JSON.stringify(got) !== JSON.stringify(expected) || projection?.appliedCount !== version) {
      problems.push(`${paymentId}: applied ${JSON.stringify(got)} (count ${projection?.appliedCount ?? 0}), expected ${JSON.stringify(expected)}`);
    }
  }
  return problems;
}
