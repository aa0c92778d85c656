/**
 * Positional reads of a Swift object: the shared ranged reader (object-store/ranged-reader.ts)
 * over one ranged GET from a position to the end.
 */
import { RangedReader } from '../object-store/ranged-reader.js';
import { unavailable } from './client.js';
import type { SwiftContext } from './writer.js';

export class SwiftFileReader extends RangedReader {
  constructor(ctx: SwiftContext, path: string, size: number) {
    super(
      size,
      async (position, end) => {
        const response = await ctx.client.ok('GET', path, {
          method: 'GET',
          object: ctx.key(path),
          headers: { range: `bytes=${position}-${end - 1}` },
        });
        return response.body;
      },
      (err) => unavailable('GET', path, err),
    );
  }
}
