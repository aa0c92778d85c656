/** Every scenario, in the order they run (scaling last: it grows the registries). */
import { blobPullScenarios } from './blob-pull.js';
import { blobPushScenarios } from './blob-push.js';
import { dockyardScalingScenarios } from './dockyard-scaling.js';
import { gcScenarios } from './gc.js';
import { hugeBlobScenarios } from './huge-blob.js';
import { imagePushScenarios } from './image-push.js';
import { manifestScenarios } from './manifests.js';
import { replicaScenarios } from './replicas.js';
import { scalingScenarios } from './scaling.js';
import { tagScenarios } from './tags.js';
import { tokenEndpointScenarios } from './token-endpoint.js';
import { webhookScenarios } from './webhooks.js';
import { webPageScenarios } from './web-pages.js';
import type { Scenario, ScenarioEnv } from './types.js';

/** All scenarios of a run, in order. */
export function allScenarios(env: ScenarioEnv): Scenario[] {
  const { profile } = env;
  return [
    ...blobPushScenarios(profile),
    ...blobPullScenarios(profile),
    // Before the 2 GiB rows: the store's garbage collection of their deleted blobs would run under these.
    ...replicaScenarios(profile),
    ...hugeBlobScenarios(profile),
    ...manifestScenarios(profile),
    ...tagScenarios(profile),
    ...imagePushScenarios(profile),
    ...webhookScenarios(profile),
    ...tokenEndpointScenarios(profile, env.authService),
    ...scalingScenarios(profile, env.seedThroughDatabase),
    ...dockyardScalingScenarios(profile),
    ...webPageScenarios(profile),
    ...gcScenarios(profile),
  ];
}

/** The scenarios of one auth mode whose id matches `only`. */
export function selectScenarios(scenarios: Scenario[], mode: 'none' | 'token', only: RegExp | undefined): Scenario[] {
  return scenarios.filter((s) => s.modes.includes(mode) && (!only || only.test(s.id)));
}
