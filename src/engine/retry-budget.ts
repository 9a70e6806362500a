/**
 * Retry throttling as gRPC's retry design (proposal A6) has it: a bucket of `maxTokens`; each
 * failure takes one token, each success gives back `tokenRatio`; retries are allowed only while
 * more than half the bucket is left. When the server is down, retries stop quickly instead of
 * multiplying the load; when it recovers, successes refill the bucket.
 */
export class RetryBudget {
  readonly maxTokens: number;
  readonly tokenRatio: number;
  #tokens: number;
  retries = 0;
  refused = 0;

  constructor(maxTokens = 10, tokenRatio = 0.1) {
    this.maxTokens = maxTokens;
    this.tokenRatio = tokenRatio;
    this.#tokens = maxTokens;
  }

  get tokens(): number {
    return this.#tokens;
  }

  onSuccess(): void {
    this.#tokens = Math.min(this.maxTokens, this.#tokens + this.tokenRatio);
  }

  /** Record a failure; true if a retry is allowed for it. */
  onFailure(): boolean {
    this.#tokens = Math.max(0, this.#tokens - 1);
    if (this.#tokens > this.maxTokens / 2) {
      this.retries++;
      return true;
    }
    this.refused++;
    return false;
  }
}
