/** Request settings and their defaults (documented in README). */
export interface RequestConfig {
  /** How long to wait for a response (default 1 s); restarted by each NODES message. */
  requestTimeoutMs: number;
  /** How many times a request is sent again after a timeout (default 1). */
  requestRetries: number;
  /** NODES messages accepted for one request (default 5, as geth). */
  maxNodesMessages: number;
  /** Requests under way at once; beyond it requests fail with ERR_TOO_MANY_REQUESTS (default 10,000). */
  maxActiveRequests: number;
}

export const DEFAULT_REQUEST_CONFIG: RequestConfig = {
  requestTimeoutMs: 1_000,
  requestRetries: 1,
  maxNodesMessages: 5,
  maxActiveRequests: 10_000,
};
