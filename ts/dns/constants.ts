/** EIP-1459 (node discovery via DNS): entry prefixes and the limits the resolver keeps to. */

export const ROOT_PREFIX = 'enrtree-root:v1';
export const BRANCH_PREFIX = 'enrtree-branch:';
export const LINK_PREFIX = 'enrtree://';
export const ENR_PREFIX = 'enr:';

/** Bytes of keccak256(entry text) that name an entry (base32: 26 characters). */
export const HASH_SIZE = 16;
/** Shortest and longest hash name accepted, in decoded bytes (go-ethereum accepts the same range). */
export const MIN_HASH_BYTES = 12;
export const MAX_HASH_BYTES = 32;

/** Children per branch when building: 13 hashes of 27 characters keep a TXT answer below 512 bytes. */
export const BUILD_BRANCH_WIDTH = 13;

/** Default timeout of one DNS lookup, in milliseconds. */
export const DEFAULT_TIMEOUT_MS = 5_000;
/** Default cap on tree entries fetched in one call (roots not counted), over all trees. */
export const DEFAULT_MAX_ENTRIES = 10_000;
/** Default cap on branch nesting below a subtree root (the entry named by `e=` or `l=` is depth 1). */
export const DEFAULT_MAX_DEPTH = 16;
/** Default cap on linked trees followed (the tree of the URL not counted). */
export const DEFAULT_MAX_LINKS = 16;
/** DNS lookups in flight at once. */
export const LOOKUP_CONCURRENCY = 16;
/** Longest entry text accepted (a record is at most 404 characters, a 13-wide branch 365). */
export const MAX_ENTRY_LENGTH = 4_096;
/** Most children accepted in one branch entry. */
export const MAX_BRANCH_WIDTH = 128;
/** Most TXT records considered at one name. */
export const MAX_TXT_RECORDS = 16;
/** Records decoded (and their signatures verified) per call into the backend. */
export const DECODE_BATCH = 256;
/** Longest domain name (RFC 1035), without a trailing dot. */
export const MAX_DOMAIN_LENGTH = 253;
