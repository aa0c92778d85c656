/**
 * The two ways an administrator changes the auth database, as the auth crash test drives
 * them: the admin REST API and the admin CLI. Each change reports whether it was
 * acknowledged (2xx, exit 0) or lost because the service or the command died under it.
 */
import type { Agent } from 'node:http';
import { REPO_ROOT } from '../../e2e/harness/services.js';
import { explain, isNetworkError, send, type HttpResponse } from './http.js';
import { runKillable, type KillableRun } from './killable-run.js';

/** How a change ended: acknowledged (with what the server returned) or lost in the crash. */
export type Outcome = { acked: true; output: string } | { acked: false };

/** One way of making changes: the admin REST API or the admin CLI. */
export interface Channel {
  createUser(name: string, password: string): Promise<Outcome>;
  setPassword(name: string, password: string): Promise<Outcome>;
  setDisabled(name: string, disabled: boolean): Promise<Outcome>;
  deleteUser(name: string): Promise<Outcome>;
  addGrant(user: string, pattern: string, actions: string): Promise<Outcome>;
  removeGrant(id: number): Promise<Outcome>;
  createRobot(name: string): Promise<Outcome>;
  revokeRobot(name: string): Promise<Outcome>;
}

/** An HTTP Basic Authorization header value. */
export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** The admin API as a Channel; a network error counts as lost only once the service was killed. */
export class ApiChannel implements Channel {
  constructor(
    private readonly target: () => string,
    private readonly adminPassword: string,
    private readonly isDown: () => boolean,
    private readonly agent: Agent,
  ) {}

  private async call(method: string, path: string, body?: unknown): Promise<Outcome> {
    let response: HttpResponse;
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    try {
      response = await send(`${this.target()}/api/v1${path}`, {
        method,
        agent: this.agent,
        headers: {
          Authorization: basic('admin', this.adminPassword),
          // The admin API wants a JSON content type on every change, even without a body.
          'Content-Type': 'application/json',
          'Content-Length': payload ? payload.length : 0,
        },
        body: payload,
      });
    } catch (err) {
      if (isNetworkError(err) && err.code !== 'ETIMEDOUT' && this.isDown()) return { acked: false };
      throw err;
    }
    if (response.status < 200 || response.status >= 300) throw new Error(`${method} ${path}: ${explain(response)}`);
    return { acked: true, output: response.body.toString('utf8') };
  }

  createUser(name: string, password: string): Promise<Outcome> {
    return this.call('POST', '/users', { name, password });
  }
  setPassword(name: string, password: string): Promise<Outcome> {
    return this.call('PUT', `/users/${name}/password`, { password });
  }
  setDisabled(name: string, disabled: boolean): Promise<Outcome> {
    return this.call('PATCH', `/users/${name}`, { disabled });
  }
  deleteUser(name: string): Promise<Outcome> {
    return this.call('DELETE', `/users/${name}`);
  }
  addGrant(user: string, pattern: string, actions: string): Promise<Outcome> {
    return this.call('POST', '/grants', { subject: `user:${user}`, pattern, actions });
  }
  removeGrant(id: number): Promise<Outcome> {
    return this.call('DELETE', `/grants/${id}`);
  }
  createRobot(name: string): Promise<Outcome> {
    return this.call('POST', '/robots', { name });
  }
  revokeRobot(name: string): Promise<Outcome> {
    return this.call('POST', `/robots/robot$${name}/revoke`);
  }
}

/** The admin CLI as a Channel; a CLI process SIGKILLed with the service counts as lost. */
export class CliChannel implements Channel {
  constructor(
    private readonly env: Record<string, string>,
    private readonly running: Set<KillableRun>,
  ) {}

  private async cli(args: string[], input?: string): Promise<Outcome> {
    const run = runKillable(process.execPath, ['--import', 'tsx', 'services/auth/cli.ts', ...args], { env: this.env, input, cwd: REPO_ROOT });
    this.running.add(run);
    const result = await run.done.finally(() => this.running.delete(run));
    if (result.signal === 'SIGKILL') return { acked: false };
    if (result.code !== 0) throw new Error(`cli ${args.join(' ')}: exit ${result.code} ${result.signal ?? ''}\n${result.stdout}\n${result.stderr}`);
    return { acked: true, output: result.stdout };
  }

  createUser(name: string, password: string): Promise<Outcome> {
    return this.cli(['users', 'add', name, '--password-stdin'], `${password}\n`);
  }
  setPassword(name: string, password: string): Promise<Outcome> {
    return this.cli(['users', 'passwd', name, '--password-stdin'], `${password}\n`);
  }
  setDisabled(name: string, disabled: boolean): Promise<Outcome> {
    return this.cli(['users', disabled ? 'disable' : 'enable', name]);
  }
  deleteUser(name: string): Promise<Outcome> {
    return this.cli(['users', 'delete', name]);
  }
  addGrant(user: string, pattern: string, actions: string): Promise<Outcome> {
    return this.cli(['grants', 'add', `user:${user}`, pattern, actions]);
  }
  removeGrant(id: number): Promise<Outcome> {
    return this.cli(['grants', 'remove', String(id)]);
  }
  createRobot(name: string): Promise<Outcome> {
    return this.cli(['robots', 'add', name, '--json']);
  }
  revokeRobot(name: string): Promise<Outcome> {
    return this.cli(['robots', 'revoke', name]);
  }
}

/** The id a grant creation returned (API JSON or the CLI's `grant <id>: …` line). */
export function grantIdFrom(output: string): number {
  const match = /^grant (\d+):/m.exec(output);
  const id = match ? Number(match[1]) : (JSON.parse(output) as { id?: unknown }).id;
  if (typeof id !== 'number' || !Number.isSafeInteger(id)) throw new Error(`no grant id in ${output}`);
  return id;
}

/** The one-time secret a robot creation returned (API or CLI `--json`). */
export function robotSecretFrom(output: string): string {
  const secret = (JSON.parse(output) as { secret?: unknown }).secret;
  if (typeof secret !== 'string' || secret === '') throw new Error(`no robot secret in ${output}`);
  return secret;
}
