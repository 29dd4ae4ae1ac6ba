import { randomUUID } from 'node:crypto';
import type { Clock, IdGenerator } from '../ports/clock';

/** The wall clock. */
export const systemClock: Clock = { now: () => new Date() };

/** Random UUIDs (payment ids, event ids). */
export const randomIds: IdGenerator = { newId: () => randomUUID() };
