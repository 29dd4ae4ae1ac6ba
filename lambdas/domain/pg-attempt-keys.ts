/**
 * Names of the PG attempts table's attributes and index, shared by the CDK stack (the table and
 * its index), the adapter and the local runner.
 */

/** Sparse GSI of open attempts: partition `openShard`, sort `startedAt`; the attribute is removed when an attempt closes. */
export const OPEN_ATTEMPTS_INDEX = 'OpenAttempts';
export const OPEN_SHARD_ATTRIBUTE = 'openShard';
/** One partition is enough: open attempts are few (those in flight, and those the reconciler has to close). */
export const OPEN_SHARD = 'open';
