/**
 * A network namespace of the test's own, joined to the host namespace by a veth pair, so a
 * service can run at an address that is not loopback. dockerd skips certificate checks for
 * every registry on 127.0.0.0/8; at an address inside the namespace it verifies them as
 * it would for a registry on another machine. Addresses come only from the RFC 2544 test
 * range 198.18.0.0/15 (RECIPES.md: the machine's own interface is in 192.0.2.0/24), one
 * random unused /30 per namespace; names carry the test process id, so a namespace left by
 * a killed run is recognised and removed by the next one. Deleting the namespace deletes
 * the veth pair with it.
 *
 * Also here: the one place the tests write into dockerd's machine-wide
 * /etc/docker/certs.d (dockerd 20.10 has no flag to read it elsewhere), always in a
 * directory named after such a per-run address and removed again.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findTool, type ToolGate } from './tools.js';
import type { Workspace } from './workspace.js';

const NAME_PREFIX = 'dockyard-e2e-';
const DOCKER_CERTS_DIR = '/etc/docker/certs.d';
/** Marks a certs.d directory as made by the test process whose pid it holds (dockerd reads only *.crt, *.cert, *.key). */
const OWNER_FILE = 'dockyard-e2e.pid';
/** Everything created and not yet removed, undone on process exit if a run dies without its clean-up. */
const pendingUndo = new Map<string, () => void>();

process.on('exit', () => {
  for (const undo of pendingUndo.values()) undo();
});

function ip(args: readonly string[]): { ok: boolean; output: string } {
  const result = spawnSync('ip', args, { encoding: 'utf8' });
  return { ok: result.status === 0, output: `${result.stdout ?? ''}${result.stderr ?? ''}`.trim() };
}

function ipOk(args: readonly string[]): void {
  const result = ip(args);
  if (!result.ok) throw new Error(`ip ${args.join(' ')} failed: ${result.output}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether this machine lets the test create namespaces (root and a working `ip netns`).
 * Missing under CI is a failure, not a skip (as in requireTools): CI runs as root.
 */
export function requireNetworkNamespaces(): ToolGate {
  let problem: string | undefined;
  if (!findTool('ip')) problem = 'the ip command (iproute2) is not installed';
  else if (process.getuid?.() !== 0) problem = 'creating a network namespace needs root';
  else {
    const probe = `${NAME_PREFIX}${process.pid}-0`; // the leftover pattern, so even a stray probe is swept
    const added = ip(['netns', 'add', probe]);
    if (added.ok) ip(['netns', 'del', probe]);
    else problem = `ip netns add is not permitted here: ${added.output}`;
  }
  if (problem === undefined) return { skip: false };
  const reason = `needs a network namespace so that dockerd verifies certificates: ${problem}`;
  if (process.env.CI) throw new Error(`${reason}; CI is set, so this is a failure, not a skip`);
  return { skip: reason };
}

/** Removes namespaces and certs.d directories left by test processes that no longer run. */
function sweepLeftovers(): void {
  for (const line of ip(['netns', 'list']).output.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const owner = new RegExp(`^${NAME_PREFIX}(\\d+)-[0-9a-f]+$`).exec(name);
    if (owner && !alive(Number(owner[1]))) ip(['netns', 'del', name]);
  }
  if (!existsSync(DOCKER_CERTS_DIR)) return;
  for (const entry of readdirSync(DOCKER_CERTS_DIR)) {
    const ownerFile = join(DOCKER_CERTS_DIR, entry, OWNER_FILE);
    if (!existsSync(ownerFile)) continue;
    const pid = Number(readFileSync(ownerFile, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0 && !alive(pid)) rmSync(join(DOCKER_CERTS_DIR, entry), { recursive: true, force: true });
  }
}

/** The IPv4 addresses already on this host's interfaces. */
function hostAddresses(): string[] {
  return [...ip(['-4', '-o', 'addr', 'show']).output.matchAll(/inet (\d+\.\d+\.\d+\.\d+)\//g)].map((m) => m[1]!);
}

/** A random /30 inside 198.18.0.0/15 that no interface here uses: [host side, namespace side]. */
function pickSubnet(): [string, string] {
  const used = new Set(hostAddresses());
  for (let attempt = 0; attempt < 100; attempt++) {
    const block = randomInt(0, 1 << 15) * 4; // offset of a /30 inside the /15
    const octets = (offset: number) => `198.${18 + (offset >> 16)}.${(offset >> 8) & 255}.${offset & 255}`;
    const addresses = [0, 1, 2, 3].map((i) => octets(block + i));
    if (addresses.every((a) => !used.has(a))) return [addresses[1]!, addresses[2]!];
  }
  throw new Error('no free /30 in 198.18.0.0/15');
}

/** A namespace with one veth pair; the service side listens on `address`. */
export interface NetworkNamespace {
  readonly name: string;
  /** The host side's address (198.18.x.y). */
  readonly hostAddress: string;
  /** The address inside the namespace, reachable from the host namespace. */
  readonly address: string;
  /** `ip netns exec NAME COMMAND ARGS…` as command and arguments for a spawn. */
  exec(command: string, args: readonly string[]): { command: string; args: string[] };
  /** Deletes the namespace (and so the veth pair). Idempotent. */
  remove(): void;
}

/**
 * Creates the namespace and its link, or removes whatever it had made and throws. Its
 * removal is registered in `ws` (run by `ws.dispose()` in after()) and on process exit.
 */
export function createNetworkNamespace(ws: Workspace): NetworkNamespace {
  sweepLeftovers();
  const tag = randomBytes(3).toString('hex');
  const name = `${NAME_PREFIX}${process.pid}-${tag}`;
  // Interface names: at most 15 characters, and never a prefix of an `ip` keyword.
  const hostLink = `vk${tag}h`;
  const innerLink = `vk${tag}n`;
  const [hostAddress, address] = pickSubnet();
  let removed = false;
  const remove = (): void => {
    if (removed) return;
    removed = true;
    pendingUndo.delete(name);
    ip(['link', 'del', hostLink]); // usually gone already with the namespace; harmless then
    ip(['netns', 'del', name]);
  };
  pendingUndo.set(name, remove);
  try {
    ipOk(['netns', 'add', name]);
    ipOk(['link', 'add', hostLink, 'type', 'veth', 'peer', 'name', innerLink]);
    ipOk(['link', 'set', innerLink, 'netns', name]);
    ipOk(['addr', 'add', `${hostAddress}/30`, 'dev', hostLink]);
    ipOk(['link', 'set', hostLink, 'up']);
    ipOk(['netns', 'exec', name, 'ip', 'addr', 'add', `${address}/30`, 'dev', innerLink]);
    ipOk(['netns', 'exec', name, 'ip', 'link', 'set', innerLink, 'up']);
    ipOk(['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up']);
  } catch (err) {
    remove();
    throw err;
  }
  ws.defer(`delete network namespace ${name}`, remove);
  return {
    name,
    hostAddress,
    address,
    exec: (command, args) => ({ command: 'ip', args: ['netns', 'exec', name, command, ...args] }),
    remove,
  };
}

/** Whether dockerd trusts a CA for one registry `host:port`, switchable during a test. */
export interface DockerTrust {
  /** Writes /etc/docker/certs.d/HOST:PORT/ca.crt (dockerd reads it at the next request). */
  install(): void;
  /** Removes that directory again. */
  remove(): void;
}

/**
 * dockerd's trust for `hostPort` (an address from createNetworkNamespace, so the directory
 * is this run's alone; an existing one is refused rather than touched). Removed by
 * `ws.dispose()` and on process exit, whatever the test did.
 */
export function dockerTrust(ws: Workspace, hostPort: string, caPath: string): DockerTrust {
  const dir = join(DOCKER_CERTS_DIR, hostPort);
  if (existsSync(dir)) throw new Error(`${dir} exists already; refusing to touch another run's trust`);
  const createdParent = !existsSync(DOCKER_CERTS_DIR);
  const remove = (): void => {
    pendingUndo.delete(dir);
    rmSync(dir, { recursive: true, force: true });
  };
  ws.defer(`remove ${dir}`, () => {
    remove();
    if (createdParent) {
      try {
        rmdirSync(DOCKER_CERTS_DIR); // only if nothing else appeared in it meanwhile
      } catch {
        // not empty: another run's directory; leave it
      }
    }
  });
  return {
    install() {
      pendingUndo.set(dir, remove);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, OWNER_FILE), `${process.pid}\n`);
      copyFileSync(caPath, join(dir, 'ca.crt'));
    },
    remove,
  };
}
