/**
 * Token endpoint throughput of Dockyard's auth service (no peer: distribution has no token
 * server): password logins (GET /token with Basic, bcrypt on every call), refresh-token
 * logins (POST grant_type=refresh_token, what docker does after `docker login`) and robot
 * logins (GET /token with a robot's secret). Every token is decoded and its claims checked.
 */
import { BenchError, HttpClient, closedLoop } from '../load.js';
import type { Profile } from '../profile.js';
import { runAuthCli, type AuthService } from '../servers.js';
import { basicLogin, refreshLogin } from '../tokens.js';
import type { Measured, Scenario, Target } from './types.js';

const CONNECTIONS = 8;
const SCOPES = ['repository:bench/manifests:pull'];
const ADMIN = 'admin';

function tokenScenario(
  id: string,
  description: string,
  profile: Profile,
  prepare: Scenario['prepare'],
  login: (http: HttpClient, worker: number) => Promise<void>,
): Scenario {
  return {
    id,
    description,
    unit: 'logins/s',
    latency: true,
    on: 'auth',
    modes: ['token'],
    budget: { seconds: profile.rateSeconds, maxOps: 1_000_000 },
    prepare,
    async round(target: Target): Promise<Measured> {
      const http = new HttpClient(target.url, CONNECTIONS);
      try {
        return await target.measure(() =>
          closedLoop(CONNECTIONS, this.budget, async (_, worker) => {
            await login(http, worker);
            return 0;
          }),
        );
      } finally {
        http.close();
      }
    },
  };
}

/** Password, refresh-token and robot logins against the auth service. */
export function tokenEndpointScenarios(profile: Profile, authService: () => AuthService): Scenario[] {
  const admin = () => ({ service: authService().service, subject: ADMIN, granted: SCOPES });
  const refreshTokens: string[] = [];
  let robot: { username: string; secret: string } | undefined;

  return [
    tokenScenario(
      `token-password-c${CONNECTIONS}`,
      `GET /token with Basic admin password (bcrypt) and one pull scope, ${CONNECTIONS} connections`,
      profile,
      undefined,
      async (http) => {
        const auth = authService();
        await basicLogin(http, auth.service, { username: ADMIN, password: auth.adminPassword, scopes: SCOPES }, admin());
      },
    ),
    tokenScenario(
      `token-refresh-c${CONNECTIONS}`,
      `POST /token grant_type=refresh_token (no Authorization) with one pull scope, ${CONNECTIONS} connections`,
      profile,
      async (target) => {
        const auth = authService();
        const http = new HttpClient(target.url, 1);
        try {
          for (let w = 0; w < CONNECTIONS; w++) {
            const answer = await basicLogin(http, auth.service, { username: ADMIN, password: auth.adminPassword, scopes: [], offline: true }, { ...admin(), granted: [] });
            refreshTokens[w] = answer.refreshToken as string;
          }
        } finally {
          http.close();
        }
      },
      async (http, worker) => {
        const answer = await refreshLogin(http, authService().service, refreshTokens[worker], SCOPES, admin());
        // A server that rotates refresh tokens hands out the next one with each answer.
        if (answer.refreshToken) refreshTokens[worker] = answer.refreshToken;
      },
    ),
    tokenScenario(
      `token-robot-c${CONNECTIONS}`,
      `GET /token with Basic robot secret (SHA-256, no bcrypt) and one pull scope, ${CONNECTIONS} connections`,
      profile,
      async () => {
        const printed = await runAuthCli(authService(), ['robots', 'add', 'bench', '--json']);
        const parsed = JSON.parse(printed) as { username?: unknown; secret?: unknown };
        if (typeof parsed.username !== 'string' || typeof parsed.secret !== 'string') {
          throw new BenchError(`robots add --json printed no username/secret: ${printed.slice(0, 200)}`);
        }
        robot = { username: parsed.username, secret: parsed.secret };
        return `robot ${robot.username} created with the admin CLI`;
      },
      async (http) => {
        const { username, secret } = robot as { username: string; secret: string };
        const { service } = authService();
        await basicLogin(http, service, { username, password: secret, scopes: SCOPES }, { service, subject: username, granted: [] });
      },
    ),
  ];
}
