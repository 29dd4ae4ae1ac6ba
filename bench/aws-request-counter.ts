/**
 * Counts the AWS requests of the local stack, by who made them and `service:Operation`, with SDK
 * middleware on the clients: each function instance's own clients (through the runner's
 * `functionClients` hook: what the handlers call) and the runner's clients (what the pollers call
 * in Lambda's place: GetRecords, ReceiveMessage, DeleteMessageBatch). DynamoDB requests also ask for
 * their consumed capacity (`ReturnConsumedCapacity: TOTAL`, which the handlers ignore), so that
 * request units are counted as DynamoDB Local computes them, per table.
 */
import type { InitializeMiddleware, MiddlewareStack } from '@smithy/types';
import type { AwsClients } from '../lambdas/platform/aws-clients';

/** Operations that take `ReturnConsumedCapacity`. */
const CAPACITY_OPERATIONS = new Set(['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query', 'Scan', 'BatchGetItem', 'BatchWriteItem', 'TransactGetItems', 'TransactWriteItems']);

/** The document client's command names, as the DynamoDB operations they send. */
const DOCUMENT_OPERATIONS: Readonly<Record<string, string>> = {
  Get: 'GetItem',
  Put: 'PutItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  BatchGet: 'BatchGetItem',
  BatchWrite: 'BatchWriteItem',
  TransactGet: 'TransactGetItems',
  TransactWrite: 'TransactWriteItems',
};

/** Request units consumed, by table (as DynamoDB answered them). */
export interface CapacityByTable {
  [table: string]: { read: number; write: number };
}

/** What one party (a function, or the runner's pollers) did. */
export interface PartyRequests {
  /** Requests by `service:Operation`. */
  readonly requests: Record<string, number>;
  /** Request units DynamoDB reported (ConsumedCapacity), by table. */
  readonly capacity: CapacityByTable;
  /**
   * Request units modelled from the requests alone, by table, for items up to 1 KB (writes) and 4 KB
   * (reads): 1 per standard write or strongly consistent read, 2 per item of a transaction.
   */
  readonly modelledCapacity: CapacityByTable;
}

/** Any SDK v3 client (the counter reads only the input, the command name and the output). */
interface SdkClient<Input extends object, Output extends object> {
  readonly middlewareStack: MiddlewareStack<Input, Output>;
}

interface ConsumedCapacity {
  TableName?: string;
  CapacityUnits?: number;
  ReadCapacityUnits?: number;
  WriteCapacityUnits?: number;
}

export class AwsRequestCounter {
  private readonly parties = new Map<string, PartyRequests>();
  private readonly instrumented = new WeakSet<object>();

  /** The runner's `functionClients` hook: counts each function's requests under its short name. */
  readonly functionClients = (fn: { readonly name: string }, clients: AwsClients): AwsClients => {
    this.instrument(fn.name, 'dynamodb', clients.documents);
    this.instrument(fn.name, 'sqs', clients.sqs);
    this.instrument(fn.name, 'sns', clients.sns);
    return clients;
  };

  /** Counts a client's requests under `party` (e.g. the runner's poller clients). */
  instrument<Input extends object, Output extends object>(party: string, service: string, client: SdkClient<Input, Output>): void {
    if (this.instrumented.has(client)) return;
    this.instrumented.add(client);
    client.middlewareStack.add(
      ((next, context) => async (args) => {
        const name = String(context.commandName ?? 'Unknown').replace(/Command$/, '');
        const operation = (service === 'dynamodb' && DOCUMENT_OPERATIONS[name]) || name;
        const counts = this.party(party);
        const key = `${service}:${operation}`;
        counts.requests[key] = (counts.requests[key] ?? 0) + 1;
        const input = args.input as unknown as Record<string, unknown>;
        if (service === 'dynamodb') modelCapacity(counts.modelledCapacity, operation, input);
        const wantsCapacity = service === 'dynamodb' && CAPACITY_OPERATIONS.has(operation) && input.ReturnConsumedCapacity === undefined;
        if (wantsCapacity) input.ReturnConsumedCapacity = 'TOTAL';
        const result = await next(args);
        if (wantsCapacity) this.addCapacity(counts.capacity, (result.output as { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] }).ConsumedCapacity, operation);
        return result;
      }) as InitializeMiddleware<Input, Output>,
      // Once per call, on the document client's stack (shared with its DynamoDB client), named as the operation sent.
      { step: 'initialize', name: 'benchAwsRequestCounter', priority: 'low' },
    );
  }

  /** Forgets everything counted so far. */
  reset(): void {
    this.parties.clear();
  }

  /** What each party did, by name. */
  snapshot(): ReadonlyMap<string, PartyRequests> {
    return this.parties;
  }

  private party(name: string): PartyRequests {
    let found = this.parties.get(name);
    if (!found) {
      found = { requests: {}, capacity: {}, modelledCapacity: {} };
      this.parties.set(name, found);
    }
    return found;
  }

  private addCapacity(into: CapacityByTable, consumed: ConsumedCapacity | ConsumedCapacity[] | undefined, operation: string): void {
    for (const entry of consumed === undefined ? [] : Array.isArray(consumed) ? consumed : [consumed]) {
      const table = entry.TableName ?? '?';
      const totals = (into[table] ??= { read: 0, write: 0 });
      // With TOTAL, DynamoDB may give only CapacityUnits: a read operation's are read units, a write's write units.
      const isRead = /^(Get|Query|Scan|BatchGet|TransactGet)/.test(operation);
      totals.read += entry.ReadCapacityUnits ?? (isRead ? (entry.CapacityUnits ?? 0) : 0);
      totals.write += entry.WriteCapacityUnits ?? (isRead ? 0 : (entry.CapacityUnits ?? 0));
    }
  }
}

/** The request units a DynamoDB request costs for small items (see PartyRequests.modelledCapacity). */
function modelCapacity(into: CapacityByTable, operation: string, input: Record<string, unknown>): void {
  const add = (table: unknown, kind: 'read' | 'write', units: number) => {
    const totals = (into[String(table)] ??= { read: 0, write: 0 });
    totals[kind] += units;
  };
  switch (operation) {
    case 'GetItem':
    case 'Query':
    case 'Scan':
      add(input.TableName, 'read', input.ConsistentRead === true ? 1 : 0.5);
      return;
    case 'PutItem':
    case 'UpdateItem':
    case 'DeleteItem':
      add(input.TableName, 'write', 1);
      return;
    case 'TransactWriteItems':
    case 'TransactGetItems':
      for (const item of (input.TransactItems ?? []) as Record<string, { TableName?: string }>[]) {
        for (const [kind, body] of Object.entries(item)) add(body.TableName, kind === 'Get' ? 'read' : 'write', 2);
      }
      return;
    case 'BatchWriteItem':
      for (const [table, requests] of Object.entries((input.RequestItems ?? {}) as Record<string, unknown[]>)) add(table, 'write', requests.length);
      return;
    case 'BatchGetItem':
      for (const [table, request] of Object.entries((input.RequestItems ?? {}) as Record<string, { Keys?: unknown[]; ConsistentRead?: boolean }>)) {
        add(table, 'read', (request.Keys?.length ?? 0) * (request.ConsistentRead ? 1 : 0.5));
      }
      return;
    default:
  }
}
