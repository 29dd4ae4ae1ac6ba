/**
 * `mnemonist/lru-cache` as the Lambda bundles carry it (an esbuild alias, see
 * lib/constructs/function-bundling.ts): the same least-recently-used cache over a `Map`, which
 * keeps its keys in insertion order.
 *
 * Its only user in our bundles is `@aws-sdk/endpoint-cache`, the DynamoDB client's cache of
 * discovered endpoints (looked up on every request, filled only when endpoint discovery is
 * enabled, which we never do). mnemonist's version, with its typed-array pointers and the
 * `obliterator` iterators it brings, is ~7 KiB of every bundle; this one has the same behaviour for
 * the methods EndpointCache calls (constructor(capacity), get, set, has, peek, clear, size),
 * compared operation by operation in test/unit/bundle-aliases.test.ts.
 */
export default class LRUCache<K, V> {
  readonly capacity: number;
  readonly #items = new Map<K, V>();

  constructor(capacity: number) {
    if (typeof capacity !== 'number' || capacity <= 0) throw new Error('mnemonist/lru-cache: capacity should be positive number.');
    this.capacity = capacity;
  }

  get size(): number {
    return this.#items.size;
  }

  /** The value, now the most recently used; `undefined` when absent. */
  get(key: K): V | undefined {
    if (!this.#items.has(key)) return undefined;
    const value = this.#items.get(key) as V;
    this.#items.delete(key);
    this.#items.set(key, value);
    return value;
  }

  /** The value, its recency unchanged. */
  peek(key: K): V | undefined {
    return this.#items.get(key);
  }

  has(key: K): boolean {
    return this.#items.has(key);
  }

  /** Stores the value as the most recently used, dropping the least recently used when full. */
  set(key: K, value: V): void {
    this.#items.delete(key);
    this.#items.set(key, value);
    if (this.#items.size > this.capacity) this.#items.delete(this.#items.keys().next().value as K);
  }

  clear(): void {
    this.#items.clear();
  }
}
