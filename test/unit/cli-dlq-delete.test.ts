import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { parseCommandLine, type Command } from '../../cli/args';
import { isChosen, isYes, notFound } from '../../cli/commands/dlq-delete';
import type { CommandContext } from '../../cli/context';
import type { ReceivedMessage } from '../../cli/messages';
import { BufferedOutput } from '../../cli/output';
import { runCommand } from '../../cli/run';
import type { Target } from '../../cli/target';
import { envelope } from '../support/stream-events';

const DLQ_URL = 'http://sqs/000000000000/orders-dlq.fifo';
const SOURCE_URL = 'http://sqs/000000000000/orders.fifo';
const DLQ_ARN = 'arn:aws:sqs:us-east-1:000000000000:orders-dlq.fifo';

const target: Target = {
  kind: 'local',
  source: '(test)',
  region: 'us-east-1',
  dynamodbEndpoint: 'http://127.0.0.1:1',
  sqsEndpoint: 'http://127.0.0.1:1',
  queues: { 'orders-dlq.fifo': DLQ_URL, 'orders.fifo': SOURCE_URL },
  tables: {},
  paymentGateway: { kind: 'sandbox', from: '(test)' },
};

const received = (group: string, sequence: number): ReceivedMessage => ({
  messageId: `m-${group}-${sequence}`,
  receiptHandle: `rh-${group}-${sequence}`,
  body: JSON.stringify(envelope(group, sequence)),
  groupId: group,
  receiveCount: 3,
  attributes: {},
  messageAttributes: {},
});

describe('dlq delete: which messages', () => {
  it('chooses by message id, by group and sequence, or a whole group', () => {
    const message = received('pay_1', 2);

    expect(isChosen({ kind: 'messages', messageIds: ['m-pay_1-2'] }, message)).toBe(true);
    expect(isChosen({ kind: 'messages', messageIds: ['m-other'] }, message)).toBe(false);
    expect(isChosen({ kind: 'group', groupId: 'pay_1', sequences: [2] }, message)).toBe(true);
    expect(isChosen({ kind: 'group', groupId: 'pay_1', sequences: [3] }, message)).toBe(false);
    expect(isChosen({ kind: 'group', groupId: 'pay_1' }, message)).toBe(true);
    expect(isChosen({ kind: 'group', groupId: 'pay_2' }, message)).toBe(false);
  });

  it('names what was chosen and not removed', () => {
    expect(notFound({ kind: 'messages', messageIds: ['m-pay_1-1', 'm-x'] }, [received('pay_1', 1)])).toEqual(['message m-x']);
    expect(notFound({ kind: 'group', groupId: 'pay_1', sequences: [1, 4] }, [received('pay_1', 1)])).toEqual(['group pay_1 sequence 4']);
    expect(notFound({ kind: 'group', groupId: 'pay_1' }, [])).toEqual(['any message of group pay_1']);
    expect(notFound({ kind: 'group', groupId: 'pay_1' }, [received('pay_1', 1)])).toEqual([]);
  });

  it('confirms only on an explicit yes', () => {
    for (const answer of ['y', 'Y', 'yes', ' YES ']) expect(isYes(answer)).toBe(true);
    for (const answer of ['', 'n', 'no', 'yep', 'sure']) expect(isYes(answer)).toBe(false);
  });
});

describe('dlq delete: the command on a mocked SQS', () => {
  const sqsMock = mockClient(SQSClient);

  beforeEach(() => {
    sqsMock.reset();
    sqsMock.on(GetQueueUrlCommand).rejects({ name: 'QueueDoesNotExist', message: 'no' });
    sqsMock.on(GetQueueAttributesCommand, { QueueUrl: DLQ_URL }).resolves({ Attributes: { QueueArn: DLQ_ARN, FifoQueue: 'true' } });
    sqsMock
      .on(GetQueueAttributesCommand, { QueueUrl: SOURCE_URL })
      .resolves({ Attributes: { QueueArn: `${DLQ_ARN}-src`, FifoQueue: 'true', RedrivePolicy: JSON.stringify({ deadLetterTargetArn: DLQ_ARN, maxReceiveCount: 5 }) } });
    sqsMock
      .on(ReceiveMessageCommand)
      .resolvesOnce({
        Messages: [
          { MessageId: 'm-1', ReceiptHandle: 'rh-1', Body: JSON.stringify(envelope('pay_1', 1)), Attributes: { MessageGroupId: 'pay_1', ApproximateReceiveCount: '6' } },
          { MessageId: 'm-2', ReceiptHandle: 'rh-2', Body: JSON.stringify(envelope('pay_2', 1)), Attributes: { MessageGroupId: 'pay_2', ApproximateReceiveCount: '6' } },
        ],
      })
      .resolves({ Messages: [] });
    sqsMock.on(ChangeMessageVisibilityCommand).resolves({});
    sqsMock.on(DeleteMessageCommand).resolves({});
  });

  const run = async (argv: string[], answer: boolean | undefined) => {
    const command = parseCommandLine(argv) as Exclude<Command, { name: 'help' }>;
    const out = new BufferedOutput();
    const questions: string[] = [];
    const ctx = { target, sqs: new SQSClient({ region: 'us-east-1' }), out, now: () => new Date(), newRunId: () => 'r' } as unknown as CommandContext;
    const confirm = async (question: string) => {
      questions.push(question);
      if (answer === undefined) throw new Error('asked, though --yes was given');
      return answer;
    };
    const code = await runCommand(command, ctx, { confirm });
    return { code, out, questions };
  };

  it('shows the chosen message, and when stdin says no, deletes nothing (exit 2) and hands every message back', async () => {
    const { code, out, questions } = await run(['dlq', 'delete', 'orders-dlq.fifo', '--message-id', 'm-1'], false);

    expect(code).toBe(2);
    expect(questions).toEqual(['Delete 1 message(s) from orders-dlq.fifo? This cannot be undone. [y/N] ']);
    expect(out.text).toMatch(/m-1\s+pay_1\s+1\s+evt-pay_1-1\s+payment.created\s+6/);
    expect(out.text).not.toContain('m-2 ');
    expect(out.warnings[0]).toBe('Refused: not confirmed; nothing was deleted');
    expect(sqsMock.commandCalls(DeleteMessageCommand)).toHaveLength(0);
    const released = sqsMock.commandCalls(ChangeMessageVisibilityCommand).filter((call) => call.args[0].input.VisibilityTimeout === 0);
    expect(released.map((call) => call.args[0].input.ReceiptHandle).sort()).toEqual(['rh-1', 'rh-2']);
  });

  it('with --yes, asks nothing and deletes exactly the chosen message by its receipt handle', async () => {
    const { code, out, questions } = await run(['dlq', 'delete', 'orders-dlq.fifo', '--message-id', 'm-1', '--yes'], undefined);

    expect(code).toBe(0);
    expect(questions).toEqual([]);
    expect(sqsMock.commandCalls(DeleteMessageCommand).map((call) => call.args[0].input)).toEqual([{ QueueUrl: DLQ_URL, ReceiptHandle: 'rh-1' }]);
    expect(out.text).toContain('removed message m-1 (group pay_1, sequence 1, event evt-pay_1-1)');
    expect(out.text).toContain('Removed 1 message(s) from orders-dlq.fifo.');
  });

  it('refuses a queue that no RedrivePolicy names (not a DLQ), before receiving anything', async () => {
    sqsMock.on(GetQueueAttributesCommand, { QueueUrl: SOURCE_URL }).resolves({ Attributes: { QueueArn: `${DLQ_ARN}-src`, FifoQueue: 'true' } });
    sqsMock.on(ListQueuesCommand).resolves({ QueueUrls: [] });

    const { code, out } = await run(['dlq', 'delete', 'orders-dlq.fifo', '--message-id', 'm-1', '--yes'], undefined);

    expect(code).toBe(2);
    expect(out.warnings[0]).toBe("Refused: orders-dlq.fifo is not a DLQ: no queue's RedrivePolicy names it, and dlq delete only deletes from DLQs; nothing was deleted");
    expect(sqsMock.commandCalls(ReceiveMessageCommand)).toHaveLength(0);
    expect(sqsMock.commandCalls(DeleteMessageCommand)).toHaveLength(0);
  });

  it('says what it could not find (exit 1) and deletes nothing when no chosen message is visible', async () => {
    const { code, out } = await run(['dlq', 'delete', 'orders-dlq.fifo', '--group', 'pay_9', '--sequence', '3', '--yes'], undefined);

    expect(code).toBe(1);
    expect(out.text).toContain('None of the chosen messages is among the 2 message(s) orders-dlq.fifo shows now.');
    expect(out.warnings[0]).toBe('Not found (nothing deleted for these): group pay_9 sequence 3.');
    expect(sqsMock.commandCalls(DeleteMessageCommand)).toHaveLength(0);
  });
});
