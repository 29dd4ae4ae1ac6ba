/**
 * Everything random in a chaos run comes from one seed.
 *
 * - `SeededRandom` is a sequential generator (sfc32, seeded through splitmix32): the driver draws
 *   the whole payment plan from it up front, so the plan is the same for the same seed.
 * - Fault decisions are taken while handlers run concurrently, so drawing them from a sequential
 *   stream would tie them to thread timing. Instead each decision is a keyed draw:
 *   `chance(kind, key, p)` hashes (seed, fault kind, what is hit, attempt) into [0, 1). The key names
 *   what a fault hits in terms the seed fixes (an order id and a sequence number, never a random
 *   payment id or a message id), so the same seed injects the same faults into the same events.
 *   How often an event is attempted still depends on timing (batch composition, the sweeper's
 *   race), so counts can differ a little between two runs of one seed; the decisions do not.
 */

/** 32-bit FNV-1a of a string's UTF-16 code units, then a splitmix32 finalizer. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return mix32(h);
}

function mix32(value: number): number {
  let z = (value + 0x9e3779b9) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** A sequential generator (sfc32) for plans drawn in a fixed order. */
export class SeededRandom {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(readonly seed: number, stream = 'plan') {
    const base = hash32(`${seed >>> 0}:${stream}`);
    this.a = mix32(base);
    this.b = mix32(this.a);
    this.c = mix32(this.b);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.next();
  }

  /** A uniform number in [0, 1). */
  next(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t / 2 ** 32;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Picks by weight: `[[value, weight], ...]`. */
  weighted<T>(choices: readonly (readonly [T, number])[]): T {
    const total = choices.reduce((sum, [, weight]) => sum + weight, 0);
    let point = this.next() * total;
    for (const [value, weight] of choices) {
      point -= weight;
      if (point < 0) return value;
    }
    return (choices.at(-1) as readonly [T, number])[0];
  }
}

/** Keyed decisions: the same (seed, kind, key) always gives the same draw. */
export class KeyedRandom {
  constructor(readonly seed: number) {}

  /** A uniform number in [0, 1) for this kind and key. */
  draw(kind: string, key: string): number {
    return hash32(`${this.seed >>> 0}|${kind}|${key}`) / 2 ** 32;
  }

  chance(kind: string, key: string, probability: number): boolean {
    return probability > 0 && this.draw(kind, key) < probability;
  }
}

/** A fresh seed when none is given (logged, so the run can be repeated). */
export function randomSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}
