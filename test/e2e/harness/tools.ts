/**
 * Which real clients this machine has. An e2e file asks for its tools up front: when one is
 * missing the file is skipped with a message, except under CI (env CI set), where a missing
 * tool is a failure, so a broken CI image can never pass by skipping everything.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Absolute path of an executable found on PATH (or given absolutely), else undefined. */
export function findTool(name: string): string | undefined {
  const candidates = name.includes('/') ? [name] : (process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, name));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; try the next PATH entry
    }
  }
  return undefined;
}

/** What `describe(..., { skip })` needs: false when everything is present, else the reason. */
export interface ToolGate {
  skip: string | false;
}

/**
 * Checks `tools` (and root, when `needsRoot`). Missing under CI → throws, failing the file
 * at load time with the reason; missing elsewhere → a skip reason naming the install command.
 */
export function requireTools(tools: readonly string[], options: { needsRoot?: boolean } = {}): ToolGate {
  const problems = tools.filter((tool) => !findTool(tool)).map((tool) => `${tool} not found`);
  if (options.needsRoot && process.getuid?.() !== 0) problems.push('must run as root');
  if (problems.length === 0) return { skip: false };
  const reason =
    `e2e prerequisites missing: ${problems.join(', ')} ` +
    '(apt-get install -y skopeo podman buildah umoci docker.io docker-registry apache2-utils openssl busybox-static)';
  if (process.env.CI) throw new Error(`${reason}; CI is set, so this is a failure, not a skip`);
  return { skip: reason };
}
