// Runs a container health-check script (`node -e SCRIPT`) against a local stand-in server,
// so the probes in the Dockerfile and docker-compose.yml are executed, not just read.
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Options: which port in the script to point at the stand-in, and what /healthz answers. */
export interface ProbeOptions {
  rewritePort?: number;
  status: number;
  env?: Record<string, string>;
}

/** Exit code of the probe script run against a stand-in answering /healthz with `status`. */
export async function runHealthcheck(script: string, options: ProbeOptions): Promise<number> {
  const server = http.createServer((req, res) => {
    res.statusCode = req.url === '/healthz' ? options.status : 404;
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const code = options.rewritePort === undefined ? script : script.replaceAll(`:${options.rewritePort}/`, `:${port}/`);
  const env: Record<string, string> = { PATH: process.env.PATH ?? '' };
  for (const [key, value] of Object.entries(options.env ?? {})) env[key] = value.replaceAll('{port}', String(port));
  try {
    return await new Promise<number>((resolve, reject) => {
      const child = spawn(process.execPath, ['-e', code], { env, stdio: 'ignore' });
      child.on('error', reject);
      child.on('exit', (exitCode) => resolve(exitCode ?? -1));
    });
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}
