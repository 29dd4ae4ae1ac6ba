/**
 * How the SQS poller splits one receive into concurrent invocations: whole message groups only,
 * each group's messages in the order received, batches as even as whole groups allow.
 */
import type { Message } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { splitByGroup } from '../../local/pollers/sqs-poller';

const message = (id: string, group?: string): Message => ({ MessageId: id, ...(group !== undefined && { Attributes: { MessageGroupId: group } }) });
const ids = (batches: Message[][]) => batches.map((batch) => batch.map((m) => m.MessageId));

describe('splitByGroup', () => {
  it('keeps everything in one batch, in receive order, when one invocation slot is free', () => {
    const received = [message('a1', 'A'), message('b1', 'B'), message('a2', 'A'), message('c1', 'C')];

    expect(ids(splitByGroup(received, 1))).toEqual([['a1', 'b1', 'a2', 'c1']]);
  });

  it('makes one batch per group when there are more free slots than groups', () => {
    const received = [message('a1', 'A'), message('b1', 'B'), message('c1', 'C')];

    expect(ids(splitByGroup(received, 10))).toEqual([['a1'], ['b1'], ['c1']]);
  });

  it('spreads groups over the free slots as evenly as whole groups allow, in contiguous runs', () => {
    const received = ['A', 'B', 'C', 'D', 'E', 'F', 'G'].map((group) => message(`${group.toLowerCase()}1`, group));

    expect(ids(splitByGroup(received, 3))).toEqual([['a1', 'b1', 'c1'], ['d1', 'e1'], ['f1', 'g1']]);
  });

  it('never splits a group: its messages stay together and in order, even when that leaves a slot unused', () => {
    const received = [message('a1', 'A'), message('b1', 'B'), message('a2', 'A'), message('a3', 'A')];

    expect(ids(splitByGroup(received, 3))).toEqual([['a1', 'a2', 'a3'], ['b1']]);
  });

  it('lets messages without a group (a standard queue) each stand alone', () => {
    const received = [message('m1'), message('m2'), message('m3')];

    expect(ids(splitByGroup(received, 2))).toEqual([['m1', 'm2'], ['m3']]);
  });
});
