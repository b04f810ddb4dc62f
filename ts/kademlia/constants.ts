/** Kademlia constants (spec §8, §11). */
/** Entries per bucket. */
export const K = 16;
/** Buckets by log-distance 1..256. */
export const BUCKET_COUNT = 256;
/** Candidates kept per bucket for when a member fails (geth's maxReplacements). */
export const MAX_REPLACEMENTS = 10;
/** Bucket places that entries which reached us first may hold (sigp's incoming_bucket_limit, as Lighthouse sets it). */
export const INCOMING_PER_BUCKET = 8;
