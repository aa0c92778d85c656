/**
 * Runs storage operations of one garbage-collection page side by side: object stores and
 * filesystems answer many small requests at once far faster than one after the other, and
 * a page's deletions all happen while its locks are held, so their total time is what a
 * waiting push feels. The concurrency is bounded so a page never floods the storage, and
 * every result is settled: one failed operation must not hide what the others did.
 */

/** Storage operations in flight at once per page. */
export const STORAGE_CONCURRENCY = 16;

/** Applies `fn` to every item, at most `limit` at a time; results in the items' order. */
export async function settleBounded<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<Array<PromiseSettledResult<R>>> {
  const results = new Array<PromiseSettledResult<R>>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      try {
        results[index] = { status: 'fulfilled', value: await fn(items[index]!) };
      } catch (reason) {
        results[index] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
