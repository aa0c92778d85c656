#!/usr/bin/env node
// The `dockyard` command (package.json "bin"): runs the compiled CLI from dist/, which
// `npm ci` builds (the `prepare` script). No tsx here: start-up stays under half a second.
import { main } from '../dist/services/auth/cli.js';

main(process.argv.slice(2));
