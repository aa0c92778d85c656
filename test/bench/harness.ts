/**
 * Runs scenarios against targets fairly on a small noisy machine: every target is
 * prepared first (untimed, plus one unmeasured warm-up round where a scenario asks for
 * it), then rounds alternate which target goes first (ABBA across
 * rounds and scenarios), so drift in machine load hits both sides alike. Accounting of a
 * measured section: server CPU from /proc before/after, sampled server RSS, requests sent
 * and the bench's own CPU.
 */
import type { DatabaseConfig } from '../../shared/db/index.js';
import { HttpClient, requestCount, type LoopResult } from './load.js';
import { RssSampler, treeCpuMs } from './proc.js';
import { scenarioLine, specFor, type ScenarioOutcome, type TargetOutcome } from './tables.js';
import { SkipTarget, type Measured, type Scenario, type Target, type TargetName, type WebStackInfo } from './scenarios/types.js';
import { basicLogin } from './tokens.js';

/** Issues admin tokens for scope sets, once per distinct set. */
export class TokenSource {
  private readonly cache = new Map<string, Promise<string>>();
  private readonly http: HttpClient;

  constructor(authUrl: string, private readonly service: string, private readonly adminPassword: string) {
    this.http = new HttpClient(authUrl, 1);
  }

  /** `Bearer <jwt>` granting the scopes, checked to be granted in full. */
  bearer(scopes: string[]): Promise<string> {
    const key = [...scopes].sort().join(' ');
    let token = this.cache.get(key);
    if (!token) {
      token = basicLogin(this.http, this.service, { username: 'admin', password: this.adminPassword, scopes }, { service: this.service, subject: 'admin', granted: scopes }).then(
        (answer) => `Bearer ${answer.token}`,
      );
      this.cache.set(key, token);
    }
    return token;
  }

  /** Closes the connection to the auth service. */
  close(): void {
    this.http.close();
  }
}

/** A target backed by a server process whose tree is accounted while measuring. */
export function processTarget(name: TargetName, url: string, pid: number, tokens?: TokenSource, metadataDatabase?: DatabaseConfig, web?: WebStackInfo): Target {
  return {
    name,
    url,
    metadataDatabase,
    ...(web ? { web } : {}),
    async authorize(scopes) {
      return tokens && scopes.length > 0 ? tokens.bearer(scopes) : undefined;
    },
    async measure(work: () => Promise<LoopResult>): Promise<Measured> {
      const cpuBefore = treeCpuMs(pid);
      const requestsBefore = requestCount();
      const clientBefore = process.cpuUsage();
      const sampler = new RssSampler(pid);
      let result: LoopResult;
      let peakRssBytes: number;
      try {
        result = await work();
      } finally {
        peakRssBytes = sampler.stop();
      }
      const client = process.cpuUsage(clientBefore);
      return {
        ...result,
        requests: requestCount() - requestsBefore,
        cpuMs: treeCpuMs(pid) - cpuBefore,
        clientCpuMs: (client.user + client.system) / 1000,
        peakRssBytes,
      };
    },
  };
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function emptyOutcome(): TargetOutcome {
  return { status: 'not run', notes: [], rounds: [] };
}

/** How runScenarios runs: which targets a scenario compares, how many rounds, where progress goes. */
export interface RunPlan {
  targetsFor(scenario: Scenario): Target[];
  rounds: number;
  progress(line: string): void;
  stop: AbortSignal;
  /** Runs before each scenario's setup (the load guard waits here). */
  beforeScenario?(scenario: Scenario): Promise<void>;
}

/** Runs every scenario on its targets with alternating order until done or `stop` fires; failures are recorded, not fatal. */
export async function runScenarios(scenarios: Scenario[], plan: RunPlan): Promise<ScenarioOutcome[]> {
  const { rounds, progress, stop } = plan;
  const outcomes: ScenarioOutcome[] = [];
  for (const [index, scenario] of scenarios.entries()) {
    if (stop.aborted) break;
    await plan.beforeScenario?.(scenario);
    if (stop.aborted) break;
    const targets = plan.targetsFor(scenario);
    const outcome: ScenarioOutcome = {
      id: scenario.id,
      description: scenario.description,
      unit: scenario.unit,
      latency: scenario.latency,
      on: scenario.on,
      targets: Object.fromEntries(specFor(scenario.on).columns.map((name) => [name, emptyOutcome()])),
    };
    outcomes.push(outcome);
    const began = Date.now();
    progress(`[${index + 1}/${scenarios.length}] ${scenario.id}: preparing`);
    for (const target of targets) {
      const result = emptyOutcome();
      outcome.targets[target.name] = result;
      result.status = 'ok';
      try {
        const note = await scenario.prepare?.(target);
        if (note) result.notes.push(note);
      } catch (err) {
        result.status = err instanceof SkipTarget ? 'skipped' : 'failed';
        result.reason = errorText(err);
        progress(`  ${target.name}: ${result.status}: ${result.reason}`);
      }
    }
    if (scenario.warmUp) {
      for (const target of targets) {
        const result = outcome.targets[target.name] as TargetOutcome;
        if (result.status !== 'ok' || stop.aborted) continue;
        try {
          await scenario.round(target, -1);
        } catch (err) {
          result.status = 'failed';
          result.reason = `warm-up: ${errorText(err)}`;
          progress(`  ${target.name}: failed: ${result.reason}`);
        }
      }
    }
    for (let round = 0; round < rounds; round++) {
      const order = (index + round) % 2 === 0 ? targets : [...targets].reverse();
      for (const target of order) {
        const result = outcome.targets[target.name] as TargetOutcome;
        if (result.status !== 'ok' || stop.aborted) continue;
        try {
          result.rounds.push(await scenario.round(target, round));
        } catch (err) {
          if (stop.aborted) break;
          result.status = 'failed';
          result.reason = errorText(err);
          progress(`  ${target.name}: failed: ${result.reason}`);
        }
      }
    }
    if (stop.aborted) break;
    progress(`[${index + 1}/${scenarios.length}] ${scenarioLine(outcome)} (${((Date.now() - began) / 1000).toFixed(1)} s)`);
  }
  return outcomes;
}
