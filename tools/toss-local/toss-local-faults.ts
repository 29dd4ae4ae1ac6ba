/**
 * Faults toss-local injects into its Toss API (`/v1/...`) on purpose, for chaos runs and tests:
 * outages, lost answers (the work is done, the answer never arrives) and slow answers. Random
 * draws come from a seeded PRNG, so a run can be repeated with the same seed.
 */
import { seededRandom } from '../webhook-receiver/receiver';

export interface TossFaults {
  /** Every /v1 request answers 500 FAILED_INTERNAL_SYSTEM_PROCESSING without doing anything. */
  readonly outage: boolean;
  /** Probability in [0, 1] of the same, drawn per /v1 request. */
  readonly outageRate: number;
  /**
   * Probability in [0, 1] that a /v1 POST's answer is lost: the request is executed (money moved,
   * the answer stored under its idempotency key), then the connection is destroyed without an answer.
   */
  readonly loseAnswerRate: number;
  /** The same for the next N /v1 POSTs (counted down before `loseAnswerRate` is drawn). */
  readonly loseNextAnswers: number;
  /** Milliseconds every /v1 request waits before it is executed and answered. */
  readonly slowMs: number;
  /** Seed of the rate draws; setting it restarts the PRNG. */
  readonly seed: number;
}

/** Faults to change; fields not named keep their value. */
export type TossFaultChanges = Partial<TossFaults>;

/** The faults of a running server: read, change (fields not named keep their value) and reset. */
export interface TossFaultControl {
  get(): TossFaults;
  /** @throws RangeError naming the first impossible value; nothing is changed then. */
  set(changes: TossFaultChanges): TossFaults;
  /** Every fault off; the seed is kept and the PRNG restarted from it. */
  reset(): TossFaults;
}

const FIELDS = ['outage', 'outageRate', 'loseAnswerRate', 'loseNextAnswers', 'slowMs', 'seed'] as const;

/** Faults as a control request or the command line sends them; every value checked. */
export function parseFaultChanges(value: unknown): TossFaultChanges {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new RangeError('faults must be a JSON object');
  const record = value as Readonly<Record<string, unknown>>;
  const unknown = Object.keys(record).filter((key) => !(FIELDS as readonly string[]).includes(key));
  if (unknown.length > 0) throw new RangeError(`unknown fault ${unknown.join(', ')} (known: ${FIELDS.join(', ')})`);
  const changes: { -readonly [K in keyof TossFaults]?: TossFaults[K] } = {};
  if (record.outage !== undefined) {
    if (typeof record.outage !== 'boolean') throw new RangeError(`outage must be true or false, got ${JSON.stringify(record.outage)}`);
    changes.outage = record.outage;
  }
  for (const field of ['outageRate', 'loseAnswerRate'] as const) {
    const rate = record[field];
    if (rate === undefined) continue;
    if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1)) throw new RangeError(`${field} must be a number from 0 to 1, got ${JSON.stringify(rate)}`);
    changes[field] = rate;
  }
  for (const [field, max] of [
    ['loseNextAnswers', Number.MAX_SAFE_INTEGER],
    ['slowMs', 600_000],
    ['seed', 2 ** 32 - 1],
  ] as const) {
    const number = record[field];
    if (number === undefined) continue;
    if (typeof number !== 'number' || !Number.isInteger(number) || number < 0 || number > max) {
      throw new RangeError(`${field} must be a whole number from 0 to ${max}, got ${JSON.stringify(number)}`);
    }
    changes[field] = number;
  }
  return changes;
}

/** The fault state of one server, with the draws the HTTP layer makes. */
export class TossFaultState implements TossFaultControl {
  private settings: TossFaults;
  private random: () => number;

  constructor(initial: TossFaultChanges = {}) {
    const changes = parseFaultChanges(initial);
    this.settings = {
      outage: false,
      outageRate: 0,
      loseAnswerRate: 0,
      loseNextAnswers: 0,
      slowMs: 0,
      seed: Math.floor(Math.random() * 2 ** 31),
      ...changes,
    };
    this.random = seededRandom(this.settings.seed);
  }

  get(): TossFaults {
    return { ...this.settings };
  }

  set(changes: TossFaultChanges): TossFaults {
    const parsed = parseFaultChanges(changes);
    this.settings = { ...this.settings, ...parsed };
    if (parsed.seed !== undefined) this.random = seededRandom(parsed.seed);
    return this.get();
  }

  reset(): TossFaults {
    this.settings = { outage: false, outageRate: 0, loseAnswerRate: 0, loseNextAnswers: 0, slowMs: 0, seed: this.settings.seed };
    this.random = seededRandom(this.settings.seed);
    return this.get();
  }

  /** Whether this /v1 request meets an outage (draws only when a rate is set). */
  drawOutage(): boolean {
    if (this.settings.outage) return true;
    return this.settings.outageRate > 0 && this.random() < this.settings.outageRate;
  }

  /** Whether this /v1 POST's answer is lost (counts `loseNextAnswers` down first). */
  drawLostAnswer(): boolean {
    if (this.settings.loseNextAnswers > 0) {
      this.settings = { ...this.settings, loseNextAnswers: this.settings.loseNextAnswers - 1 };
      return true;
    }
    return this.settings.loseAnswerRate > 0 && this.random() < this.settings.loseAnswerRate;
  }
}
