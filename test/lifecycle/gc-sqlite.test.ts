// Garbage collection on SQLite (see gc.contract.ts).
import { runGcContract } from './gc.contract.js';

runGcContract('sqlite');
