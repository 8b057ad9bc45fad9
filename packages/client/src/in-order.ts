/**
 * Delivers values in the order they were submitted, even when some take a while to be ready
 * (compression, decompression). Values that are ready while nothing is pending are delivered at
 * once, synchronously, so the common case adds no latency.
 */
export class InOrder<T> {
  private tail: Promise<unknown> | undefined;
  private pending = 0;

  constructor(
    private readonly deliver: (value: T) => void,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {}

  push(value: T | Promise<T>): void {
    if (!this.tail && !(value instanceof Promise)) {
      this.deliver(value);
      return;
    }
    this.pending++;
    const previous = this.tail ?? Promise.resolve();
    this.tail = Promise.all([value, previous])
      .then(([ready]) => this.deliver(ready))
      .catch(this.onError)
      .finally(() => {
        if (--this.pending === 0) this.tail = undefined;
      });
  }
}
