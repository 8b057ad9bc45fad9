/**
 * Readiness: whether the node takes new rooms. Each check returns a short reason when it does not
 * (never anything about rooms or users); the first reason found is the answer of `/readyz`. Later
 * modules (a cluster's registration and Redis link) add their own checks.
 */
export class Readiness {
  private readonly checks: (() => string | undefined)[] = [];

  add(check: () => string | undefined): this {
    this.checks.push(check);
    return this;
  }

  /** Why the node is not ready, or undefined when it is. */
  reason(): string | undefined {
    for (const check of this.checks) {
      const reason = check();
      if (reason) return reason;
    }
    return undefined;
  }
}

export const HEALTHZ_PATH = '/healthz';
export const READYZ_PATH = '/readyz';
export const METRICS_PATH = '/metrics';
