// Child process for pid-lock.test.ts: takes the lock at argv[2], says "held" and waits to be killed.
import { acquirePidLock } from '../../../shared/process/pid-lock.js';

await acquirePidLock(process.argv[2]!);
process.stdout.write('held\n');
setInterval(() => undefined, 60_000);
