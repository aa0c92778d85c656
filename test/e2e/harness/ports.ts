/**
 * Free loopback ports for services that take an address in their environment rather than
 * listening on port 0 themselves. The kernel picks the port; a clash between picking and
 * binding is still possible, which is why service start retries on "address in use".
 */
import { createServer } from 'node:net';

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('could not read the port the kernel picked'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}
