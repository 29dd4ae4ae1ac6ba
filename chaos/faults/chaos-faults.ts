/**
 * Every fault of a chaos run, decided from one seed and counted: it activates the hooks (the SNS,
 * SQS and DynamoDB client middlewares that `chaosFunctionClients` installed on each function
 * instance's clients and chaos installed on its own sweeper's, the relay's and the consumer's
 * invoke wrappers), answers each hook with a keyed draw (see random.ts) and keeps the tallies the
 * report prints.
 *
 * A decision's key is the event it hits (`<orderId>#<sequence>`) plus, for faults that may hit an
 * event again, the attempt number for that fault (so a retried event is not doomed to fail the
 * same way forever). "Sticky" faults (a lost stream record, a poisoned event) are keyed by the
 * event alone: they hit every copy of it while injection is on.
 */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBRecord, SQSRecord } from 'aws-lambda';
import type { AwsClients } from '../../lambdas/platform/aws-clients';
import type { LocalStack, LocalStackOptions } from '../../local/stack';
import { keyOfBody, keyOfStreamRecord } from '../event-keys';
import { KeyedRandom } from '../random';
import { consumerInvokeWrapper, type ConsumerFaults, type ConsumerObserver, type DuplicateMode, type MessageFault } from './consumer-invocations';
import { relayInvokeWrapper, type StreamRecordFaults } from './relay-invocations';
import { clearPublishFaults, injectPublishFaults, installPublishFaults, observePublishes, type PublishCall, type PublishEntry } from './publish-faults';
import {
  clearTransactionFaults,
  injectTransactionFaults,
  installTransactionFaults,
  type InjectedTransactionError,
  type PaymentWrite,
} from './transaction-faults';
import { clearPgFaults, injectPgFaults, installPgFaults, type LedgerCall, type PgFaultTables } from './pg-faults';
import { clearTossFaults, injectTossFaults } from './toss-pg-faults';
import { CONSUMER_POLLER, PAYMENT_EVENTS_TOPIC, RELAY_POLLER } from '../sweeper';

/**
 * The fault middlewares on SDK clients (inert until `ChaosFaults.start`, and again after
 * `stopInjecting`): payment transaction failures on the document client; publish entry failures,
 * throttling and the relay's simulated crash on the SNS and SQS clients, with the crashed
 * invocation's DynamoDB calls failing too. Returns the same clients.
 */
export function installChaosFaults(clients: AwsClients): AwsClients {
  installTransactionFaults(clients.documents);
  return installPublishFaults(clients);
}

/** The functions whose clients also carry the PG boundary faults (see pg-faults.ts). */
export const PG_FAULT_FUNCTIONS: readonly string[] = ['confirm-payment', 'cancel-payment'];
/**
 * The scheduled PG reconciler is part of the recovery, and its commits answer no API request, so an
 * injected failure of one could not be matched with a 5xx answer: its clients stay unfaulted.
 */
export const PG_RECONCILER_FUNCTION = 'pg-reconciler';

/**
 * For `LocalStackOptions.functionClients`: every function instance gets its own clients with the
 * fault middlewares, as the handlers shared one set of clients before (the faults themselves only
 * match what they are for: payment TransactWriteItems, PublishBatch and SendMessageBatch calls, and
 * calls of a crashed relay invocation); the confirm and cancel functions' document clients also
 * get the PG boundary faults (their ledger calls and their commits that close a PG attempt). The
 * reconciler's clients are left as they are (see PG_RECONCILER_FUNCTION).
 */
export const chaosFunctionClients: NonNullable<LocalStackOptions['functionClients']> = (fn, clients) => {
  if (fn.name === PG_RECONCILER_FUNCTION) return clients;
  installChaosFaults(clients);
  if (PG_FAULT_FUNCTIONS.includes(fn.name)) installPgFaults(clients.documents);
  return clients;
};

/** Probabilities of each fault, per opportunity (see each field). */
export interface FaultRates {
  /** Per payment write (TransactWriteItems of an API request). */
  readonly transactionFailure: number;
  /** Per event: its stream record is lost. */
  readonly streamRecordSkip: number;
  /**
   * Per event: its stream record is a poison record, on which every relay invocation fails (also
   * after injection stopped), so the poller gives up on it and sends it to relay-failures.
   */
  readonly relayPoison: number;
  /** Per relay PublishBatch call made after the invocation's first call (so part of the batch was sent). */
  readonly relayCrash: number;
  /** Per entry of a PublishBatch call (relay or sweeper). */
  readonly publishEntryFailure: number;
  /** Per PublishBatch call (relay or sweeper). */
  readonly publishThrottle: number;
  /** Per message delivered to the consumer: failed without reaching the handler. */
  readonly consumerMessageFailure: number;
  /** Per consumer invocation: fails before the handler runs. */
  readonly consumerError: number;
  /** Per consumer invocation: crashes after the handler returned. */
  readonly consumerCrash: number;
  /** Per event: every delivery fails while injection is on, so it reaches the DLQ (and its payment's later events after it). */
  readonly consumerPoison: number;
  /** Per consumer invocation: the handler gets the same event twice. */
  readonly duplicateInvocation: number;
  /** Per entry the topic accepted: published again later under a fresh deduplication id (an at-least-once broker's duplicate). */
  readonly duplicateMessage: number;
  /** Per webhook request to the webhook subscriber's receiver: answered 503 (the dispatcher retries with backoff). */
  readonly webhookFailure: number;
  /**
   * Per sandbox PG call of confirm/cancel (its ledger transaction): it commits, then its answer is
   * lost (503). On toss-local: per `/v1` POST, the server's `loseAnswerRate` (see toss-pg-faults.ts).
   */
  readonly pgAnswerLost: number;
  /**
   * Per sandbox PG call of confirm/cancel: the PG is down, nothing is written (503). On toss-local:
   * per `/v1` request (lookups included), the server's `outageRate`.
   */
  readonly pgDown: number;
  /**
   * Per request carrying an Idempotency-Key (a create, confirm or cancel; once per step): the API
   * committed and answered 2xx, the caller's HTTP client drops the answer, and the caller sends the
   * same request again (the driver's fault, see driver.ts).
   */
  readonly answerLost: number;
  /** Per confirm/cancel commit that closes a PG attempt: the function dies before it reaches DynamoDB (500). */
  readonly pgKilledBeforeCommit: number;
  /** Per payment planned "approved, then cancelled" (card, easy pay): the cancel is sent together with the confirm. */
  readonly confirmCancelRace: number;
  /**
   * Per 5xx answer of a money-moving step (confirm, cancel of an approved payment): the caller gives
   * up instead of retrying, so the open attempt is the reconciler's (a caller's choice, not a fault).
   */
  readonly callerGivesUp: number;
}

export const DEFAULT_RATES: FaultRates = {
  transactionFailure: 0.01,
  streamRecordSkip: 0.01,
  relayPoison: 0.001,
  relayCrash: 0.05,
  publishEntryFailure: 0.01,
  publishThrottle: 0.02,
  consumerMessageFailure: 0.02,
  consumerError: 0.01,
  consumerCrash: 0.01,
  consumerPoison: 0.002,
  duplicateInvocation: 0.02,
  duplicateMessage: 0.01,
  webhookFailure: 0.05,
  pgAnswerLost: 0.01,
  pgDown: 0.01,
  pgKilledBeforeCommit: 0.01,
  answerLost: 0.01,
  confirmCancelRace: 0.03,
  callerGivesUp: 0.1,
};

export interface FaultCounts {
  relayCrashes: number;
  publishFailedEntries: number;
  publishThrottledCalls: number;
  consumerFailedMessages: number;
  consumerErrors: number;
  consumerCrashes: number;
  /** Distinct events poisoned, and the deliveries failed because of it (later messages of the group included). */
  poisonedEvents: number;
  poisonedDeliveries: number;
  duplicateInvocations: number;
  duplicateMessagesSent: number;
  duplicateMessageSendErrors: number;
  /** Distinct events whose stream record was lost. */
  skippedStreamRecords: number;
  /** Distinct events whose stream record is a poison record, and the relay invocations failed because of one. */
  poisonedStreamRecords: number;
  poisonedRelayInvocations: number;
  transactionFailures: number;
  /** PG boundary faults (see pg-faults.ts; on toss-local counted from its request log after the run, see toss-pg-faults.ts). */
  pgAnswersLost: number;
  pgDownCalls: number;
  pgKilledCommits: number;
}

/** A payment write that was made to fail. */
export interface InjectedTransactionFailure extends PaymentWrite {
  readonly error: InjectedTransactionError;
}

export type PgFaultKind = 'pg-answer-lost' | 'pg-down' | 'killed-before-commit';

/** A confirm or cancel request made to fail at the PG boundary: the API answered it 503 (lost answer, PG down) or 500 (killed). */
export interface InjectedPgFailure {
  readonly kind: PgFaultKind;
  readonly orderId: string;
  readonly paymentId: string;
  /** The event the request would have committed: `payment.approved`, `payment.failed` or `payment.cancelled`. */
  readonly eventType: string;
  /** The killed commit's event id (nothing of it may exist); none for a PG call. */
  readonly eventId?: string;
}

/** The event a money-moving PG call leads to. */
export function eventTypeOfLedgerCall(call: LedgerCall): string {
  if (call.operation !== 'authorize') return 'payment.cancelled';
  return call.outcome === 'declined' ? 'payment.failed' : 'payment.approved';
}

export interface ChaosFaultsOptions {
  readonly seed: number;
  readonly rates: FaultRates;
  /** SQS and SNS clients without fault middlewares (the runner's, chaos's own; no function's): duplicates are sent with them, unfaulted. */
  readonly rawSqs: SQSClient;
  readonly rawSns: SNSClient;
  /** Longest delay before a duplicate message is sent. @default 2_000 */
  readonly duplicateDelayMaxMs?: number;
  /** Consumer invocations one at a time (a diagnostic; see ConsumerWrapperOptions). @default false */
  readonly consumerOneAtATime?: boolean;
}

/** What happened to one event at the consumer, for explaining a violation. */
export interface DeliveryHistory {
  delivered: number;
  /** Times the handler ran on it and answered it done / failed. */
  handlerOk: number;
  handlerFailed: number;
  /** Injected: failed without the handler (incl. poison), or the whole invocation failed. */
  injectedFailures: number;
}

export class ChaosFaults {
  readonly counts: FaultCounts = {
    relayCrashes: 0,
    publishFailedEntries: 0,
    publishThrottledCalls: 0,
    consumerFailedMessages: 0,
    consumerErrors: 0,
    consumerCrashes: 0,
    poisonedEvents: 0,
    poisonedDeliveries: 0,
    duplicateInvocations: 0,
    duplicateMessagesSent: 0,
    duplicateMessageSendErrors: 0,
    skippedStreamRecords: 0,
    poisonedStreamRecords: 0,
    poisonedRelayInvocations: 0,
    transactionFailures: 0,
    pgAnswersLost: 0,
    pgDownCalls: 0,
    pgKilledCommits: 0,
  };
  /** Every payment write made to fail, in the order it happened. */
  readonly transactionFailures: InjectedTransactionFailure[] = [];
  /** Every confirm/cancel request made to fail at the PG boundary, in the order it happened. */
  readonly pgFailures: InjectedPgFailure[] = [];
  /** Order ids by payment id, from the payment writes seen (a PG call names the payment, decisions name the order). */
  private readonly orderOfPayment = new Map<string, string>();

  private readonly random: KeyedRandom;
  private readonly attempts = new Map<string, number>();
  private readonly skipped = new Set<string>();
  /** Events whose stream record is a poison record (sticky: the relay fails on it for good). */
  readonly poisonedRecords = new Set<string>();
  /** Event keys by stream sequence number, of every record the relay was handed (to name relay-failures messages). */
  readonly streamRecordKeys = new Map<string, string>();
  /** Who first got each event accepted by the payment events topic: the relay (an invocation) or a sweeper. */
  readonly firstPublisher = new Map<string, 'relay' | 'sweeper'>();
  private readonly poisoned = new Set<string>();
  private readonly duplicateSends = new Set<Promise<void>>();
  private readonly histories = new Map<string, DeliveryHistory>();
  /**
   * Handler answers that named messages of another invocation (the poller then fails the whole
   * batch): proof that overlapping invocations share the handler's batch state (module scope or the
   * function instance's handler).
   */
  readonly consumerAnomalies = { foreignFailureAnswers: 0, foreignFailureIds: 0 };
  private duplicateCount = 0;
  private injecting = false;
  private stack: LocalStack | undefined;

  constructor(private readonly options: ChaosFaultsOptions) {
    this.random = new KeyedRandom(options.seed);
  }

  get isInjecting(): boolean {
    return this.injecting;
  }

  /**
   * Hooks the invoke wrappers into the stack and starts injecting, through the client middlewares
   * too (the stack must have been started with `chaosFunctionClients`).
   */
  start(stack: LocalStack): void {
    this.stack = stack;
    this.injecting = true;
    injectTransactionFaults(stack.tableName('Payments'), { failWrite: (write) => this.failWrite(write) });
    const tables = pgFaultTables(stack);
    if (tables) {
      // The sandbox's calls are its ledger's transactions (no ledger: only the commits are matched).
      injectPgFaults(tables, {
        downBeforeCall: (call) => this.pgCallFault('pg-down', call, this.options.rates.pgDown, 'pgDownCalls'),
        loseAnswer: (call) => this.pgCallFault('pg-answer-lost', call, this.options.rates.pgAnswerLost, 'pgAnswersLost'),
        killBeforeCommit: (write) => this.killBeforeCommit(write),
      });
    }
    // toss-local's calls are HTTP: the server loses answers and is down at the same rates.
    if (stack.tossLocal) {
      injectTossFaults(stack.tossLocal, { seed: this.options.seed, answerLostRate: this.options.rates.pgAnswerLost, downRate: this.options.rates.pgDown });
    }
    injectPublishFaults({
      failEntry: (entry) =>
        this.decide('publish-entry-failure', this.entryKey(entry), this.options.rates.publishEntryFailure, 'publishFailedEntries'),
      throttleCall: (call) => this.decide('publish-throttle', this.callKey(call), this.options.rates.publishThrottle, 'publishThrottledCalls'),
      crashBeforeCall: (call) =>
        (call.invocation?.callsBefore ?? 0) > 0 && this.decide('relay-crash', this.callKey(call), this.options.rates.relayCrash, 'relayCrashes'),
      afterPublish: (accepted, call) => this.maybeDuplicate(accepted, call),
    });
    const streamFaults: StreamRecordFaults = { skipRecord: (record) => this.skipRecord(record), poisonRecord: (record) => this.poisonRecord(record) };
    // After injection stops, a poison record stays one (the relay cannot process it): it ends in relay-failures.
    const poisonOnlyRecords: StreamRecordFaults = { skipRecord: () => false, poisonRecord: (record) => this.isPoisonRecord(record) };
    stack.pollers.stream(RELAY_POLLER).invokeWrapper = relayInvokeWrapper(() => (this.injecting ? streamFaults : this.poisonedRecords.size > 0 ? poisonOnlyRecords : undefined), {
      seen: (records) => {
        for (const record of records) {
          const key = keyOfStreamRecord(record);
          const sequence = record.dynamodb?.SequenceNumber;
          if (key !== undefined && sequence !== undefined) this.streamRecordKeys.set(sequence, key);
        }
      },
      poisoned: () => {
        this.counts.poisonedRelayInvocations += 1;
      },
    });
    const topicArn = stack.topicArn(PAYMENT_EVENTS_TOPIC);
    observePublishes((accepted, call) => {
      if (call.broker !== 'sns' || call.target !== topicArn) return;
      for (const entry of accepted) {
        const key = keyOfBody(entry.body);
        if (key !== undefined && !this.firstPublisher.has(key)) this.firstPublisher.set(key, call.invocation ? 'relay' : 'sweeper');
      }
    });
    const consumerFaults: ConsumerFaults = {
      errorBeforeInvoke: (records) => {
        const hit = this.decide('consumer-error', this.batchKey(records), this.options.rates.consumerError, 'consumerErrors');
        if (hit) for (const record of records) this.history(record).injectedFailures += 1;
        return hit;
      },
      failMessage: (record) => {
        const fault = this.failMessage(record);
        if (fault) this.history(record).injectedFailures += 1;
        return fault;
      },
      duplicateInvocation: (records) => this.duplicateInvocation(records),
      crashAfterInvoke: (records) => this.decide('consumer-crash', this.batchKey(records), this.options.rates.consumerCrash, 'consumerCrashes'),
    };
    const observer: ConsumerObserver = {
      delivered: (records) => {
        for (const record of records) this.history(record).delivered += 1;
      },
      handled: (records, failedIds) => {
        const given = new Set(records.map((record) => record.messageId));
        const foreign = [...failedIds].filter((id) => !given.has(id)).length;
        if (foreign > 0) {
          this.consumerAnomalies.foreignFailureAnswers += 1;
          this.consumerAnomalies.foreignFailureIds += foreign;
        }
        for (const record of records) {
          if (failedIds.has(record.messageId)) this.history(record).handlerFailed += 1;
          else this.history(record).handlerOk += 1;
        }
      },
    };
    // After injection stops, a poisoned event keeps failing until it was dead-lettered (the bug is
    // "fixed" for what an operator redrives), so every poisoned event exercises the DLQ path.
    const poisonOnly: ConsumerFaults = {
      errorBeforeInvoke: () => false,
      failMessage: (record) => (this.isPoisoned(record) ? 'poison' : undefined),
      duplicateInvocation: () => undefined,
      crashAfterInvoke: () => false,
    };
    const consumerFaultsNow = () => (this.injecting ? consumerFaults : this.poisoned.size > 0 ? poisonOnly : undefined);
    stack.pollers.queue(CONSUMER_POLLER).invokeWrapper = consumerInvokeWrapper(consumerFaultsNow, {
      observer,
      oneAtATime: this.options.consumerOneAtATime ?? false,
    });
  }

  /**
   * Stops injecting: every hook passes through from now on (the relay keeps running crash-aware,
   * with nothing left to crash it). Resolves once the duplicates already scheduled were sent.
   */
  async stopInjecting(): Promise<void> {
    this.injecting = false;
    clearTransactionFaults();
    clearPgFaults();
    if (this.stack?.tossLocal) clearTossFaults(this.stack.tossLocal);
    clearPublishFaults();
    while (this.duplicateSends.size > 0) await Promise.allSettled([...this.duplicateSends]);
  }

  /** What the consumer saw of the event `<orderId>#<sequence>`. */
  deliveryHistory(key: string): DeliveryHistory | undefined {
    return this.histories.get(key);
  }

  private history(record: SQSRecord): DeliveryHistory {
    const key = keyOfBody(record.body) ?? record.messageId;
    let history = this.histories.get(key);
    if (!history) {
      history = { delivered: 0, handlerOk: 0, handlerFailed: 0, injectedFailures: 0 };
      this.histories.set(key, history);
    }
    return history;
  }

  /** Removes the invoke wrappers (the client middlewares stay installed, inactive). */
  detach(): void {
    if (!this.stack) return;
    this.stack.pollers.stream(RELAY_POLLER).invokeWrapper = undefined;
    this.stack.pollers.queue(CONSUMER_POLLER).invokeWrapper = undefined;
    observePublishes(undefined);
  }

  /** Keyed draw for a fault that may hit the same event again: the key includes the attempt number. */
  private decide(kind: string, key: string, probability: number, counter: keyof FaultCounts): boolean {
    if (!this.injecting || probability <= 0) return false;
    const hit = this.random.chance(kind, this.nextAttempt(kind, key), probability);
    if (hit) this.counts[counter] += 1;
    return hit;
  }

  private nextAttempt(kind: string, key: string): string {
    const id = `${kind}|${key}`;
    const attempt = (this.attempts.get(id) ?? 0) + 1;
    this.attempts.set(id, attempt);
    return `${key}@${attempt}`;
  }

  private failWrite(write: PaymentWrite): InjectedTransactionError | undefined {
    this.orderOfPayment.set(write.paymentId, write.orderId);
    const key = `${write.orderId}#${write.version}`;
    if (!this.decide('transaction-failure', key, this.options.rates.transactionFailure, 'transactionFailures')) return undefined;
    const error: InjectedTransactionError = this.random.draw('transaction-error', key) < 0.5 ? 'throttling-cancellation' : 'internal-server-error';
    this.transactionFailures.push({ ...write, error });
    return error;
  }

  /** A PG call's fault, keyed by the order and the event the call leads to (and the attempt). */
  private pgCallFault(kind: 'pg-down' | 'pg-answer-lost', call: LedgerCall, probability: number, counter: 'pgDownCalls' | 'pgAnswersLost'): boolean {
    const orderId = this.orderOfPayment.get(call.paymentId) ?? call.paymentId;
    const eventType = eventTypeOfLedgerCall(call);
    if (!this.decide(kind, `${orderId}#${eventType}`, probability, counter)) return false;
    this.pgFailures.push({ kind, orderId, paymentId: call.paymentId, eventType });
    return true;
  }

  private killBeforeCommit(write: PaymentWrite): boolean {
    if (!this.decide('pg-kill', `${write.orderId}#${write.eventType}`, this.options.rates.pgKilledBeforeCommit, 'pgKilledCommits')) return false;
    this.pgFailures.push({ kind: 'killed-before-commit', orderId: write.orderId, paymentId: write.paymentId, eventType: write.eventType, eventId: write.eventId });
    return true;
  }

  private skipRecord(record: DynamoDBRecord): boolean {
    if (record.eventName !== 'INSERT') return false;
    const key = keyOfStreamRecord(record);
    if (key === undefined || !this.random.chance('stream-skip', key, this.options.rates.streamRecordSkip)) return false;
    if (!this.skipped.has(key)) {
      this.skipped.add(key);
      this.counts.skippedStreamRecords += 1;
    }
    return true;
  }

  /** Chooses poison records while injecting (keyed by the event alone, so the same record is chosen every time). */
  private poisonRecord(record: DynamoDBRecord): boolean {
    if (record.eventName !== 'INSERT') return false;
    const key = keyOfStreamRecord(record);
    if (key === undefined) return false;
    if (!this.poisonedRecords.has(key) && this.random.chance('relay-poison', key, this.options.rates.relayPoison)) {
      this.poisonedRecords.add(key);
      this.counts.poisonedStreamRecords += 1;
    }
    return this.poisonedRecords.has(key);
  }

  private isPoisonRecord(record: DynamoDBRecord): boolean {
    const key = record.eventName === 'INSERT' ? keyOfStreamRecord(record) : undefined;
    return key !== undefined && this.poisonedRecords.has(key);
  }

  /** A poisoned event's message that has not been redriven yet (redriven copies carry the tool's marks). */
  private isPoisoned(record: SQSRecord): boolean {
    const key = keyOfBody(record.body) ?? record.messageId;
    const redriven =
      record.messageAttributes.redriveRunId !== undefined || (record.attributes.MessageDeduplicationId ?? '').includes(':redrive:');
    if (redriven || !this.poisoned.has(key)) return false;
    this.counts.poisonedDeliveries += 1;
    return true;
  }

  private failMessage(record: SQSRecord): MessageFault | undefined {
    const key = keyOfBody(record.body) ?? record.messageId;
    if (!this.poisoned.has(key) && this.random.chance('consumer-poison', key, this.options.rates.consumerPoison)) {
      this.poisoned.add(key);
      this.counts.poisonedEvents += 1;
    }
    if (this.isPoisoned(record)) return 'poison';
    return this.decide('consumer-failure', key, this.options.rates.consumerMessageFailure, 'consumerFailedMessages') ? 'failure' : undefined;
  }

  private duplicateInvocation(records: readonly SQSRecord[]): DuplicateMode | undefined {
    const key = this.batchKey(records);
    if (!this.decide('duplicate-invocation', key, this.options.rates.duplicateInvocation, 'duplicateInvocations')) return undefined;
    return this.random.draw('duplicate-mode', key) < 0.5 ? 'sequential' : 'concurrent';
  }

  private maybeDuplicate(accepted: readonly PublishEntry[], call: PublishCall): void {
    for (const entry of accepted) {
      const key = this.entryKey(entry);
      const attemptKey = this.nextAttempt('duplicate-message', key);
      if (!this.injecting || !this.random.chance('duplicate-message', attemptKey, this.options.rates.duplicateMessage)) continue;
      const delayMs = Math.floor(this.random.draw('duplicate-delay', attemptKey) * (this.options.duplicateDelayMaxMs ?? 2_000));
      const copy = ++this.duplicateCount;
      const send = new Promise<void>((resolve) => setTimeout(resolve, delayMs))
        .then(() => this.sendDuplicate(entry, call, `${entry.MessageDeduplicationId ?? key}:chaos-dup:${copy}`.slice(0, 128)))
        .then(
          () => {
            this.counts.duplicateMessagesSent += 1;
          },
          () => {
            this.counts.duplicateMessageSendErrors += 1;
          },
        )
        .finally(() => this.duplicateSends.delete(send));
      this.duplicateSends.add(send);
    }
  }

  /** The copy goes where the original went: through the topic (every subscriber) or to the queue. */
  private async sendDuplicate(entry: PublishEntry, call: PublishCall, deduplicationId: string): Promise<void> {
    const copy = { MessageGroupId: entry.MessageGroupId, MessageDeduplicationId: deduplicationId, MessageAttributes: entry.MessageAttributes };
    if (call.broker === 'sns') {
      await this.options.rawSns.send(new PublishCommand({ TopicArn: call.target, Message: entry.body, ...copy }));
    } else {
      await this.options.rawSqs.send(new SendMessageCommand({ QueueUrl: call.target, MessageBody: entry.body, ...copy }));
    }
  }

  private entryKey(entry: PublishEntry): string {
    return keyOfBody(entry.body) ?? entry.MessageDeduplicationId ?? entry.Id ?? '?';
  }

  private callKey(call: PublishCall): string {
    const first = call.entries[0];
    return first ? this.entryKey(first) : '-';
  }

  private batchKey(records: readonly SQSRecord[]): string {
    const first = records[0];
    return first ? (keyOfBody(first.body) ?? first.messageId) : '-';
  }
}

/** The table named by `fragment`, when the stack has one. */
function tableIfPresent(stack: LocalStack, fragment: string): string | undefined {
  try {
    return stack.tableName(fragment);
  } catch {
    return undefined;
  }
}

/** The sandbox PG's ledger table, when the stack has one. */
export function pgLedgerTable(stack: LocalStack): string | undefined {
  return tableIfPresent(stack, 'SandboxPgLedger');
}

/** The tables the PG boundary middleware tells apart, when the stack has PG attempts (the ledger only on a sandbox stack). */
export function pgFaultTables(stack: LocalStack): PgFaultTables | undefined {
  const attempts = tableIfPresent(stack, 'PgAttempts');
  if (attempts === undefined) return undefined;
  const ledger = pgLedgerTable(stack);
  return { payments: stack.tableName('Payments'), outbox: stack.tableName('Outbox'), attempts, ...(ledger !== undefined && { ledger }) };
}
