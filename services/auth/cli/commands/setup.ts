/**
 * Setup helpers that need no working auth database: `tls self-signed` and `config check`
 * (their modules are imported when run: the certificate and configuration code is not
 * needed for any other command).
 */
import type { Command } from '../command.js';

export const setupCommands: Command[] = [
  {
    name: 'tls self-signed',
    args: [{ name: 'HOST' }],
    flags: [
      { name: 'ip', value: 'IP', repeat: true, help: 'another IP address clients connect to (repeatable)' },
      { name: 'dns', value: 'NAME', repeat: true, help: 'another DNS name, *.example.com for a wildcard (repeatable)' },
      { name: 'out', value: 'DIR', help: 'directory for HOST.crt and HOST.key (default certs)' },
      { name: 'days', value: 'N', help: 'validity in days, 1 to 3650 (default 365)' },
    ],
    summary: 'create a self-signed HTTPS certificate with the subjectAltNames docker and podman require',
    example: 'dockyard tls self-signed registry.example.com --ip 192.0.2.10 --out certs',
    async run(ctx) {
      const { clientSteps, selfSignedFromArgs } = await import('../tls.js');
      const written = selfSignedFromArgs(ctx.args);
      ctx.print(written, () => clientSteps(ctx.args.positional[2], written).join('\n'));
    },
  },
  {
    name: 'config check',
    args: [{ name: 'FILE', optional: true }],
    summary: 'check a configuration (file and environment) the way a start would, without starting',
    example: 'dockyard config check /etc/dockyard/config.yml',
    async run(ctx) {
      const { configCheckFromArgs } = await import('../config.js');
      const result = await configCheckFromArgs(ctx.args, ctx.argv, ctx.env);
      ctx.print(result, () => [`configuration OK: ${result.file ?? 'environment only (no file)'}`, ...result.lines.map((line) => `  ${line}`)].join('\n'));
    },
  },
];
