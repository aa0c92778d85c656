/**
 * Grant administration. A grant may only name a user, group or robot that exists, so a
 * later account of the same name cannot inherit a forgotten rule (deleting a subject
 * removes its grants for the same reason).
 */
import { fail } from '../../../shared/http/errors.js';
import type { SubjectKind } from '../authorize.js';
import { assertPattern, formatSubject, parseActions, parseSubject, type Subject } from '../names.js';
import type { Queryable } from '../store/common.js';
import type { GrantRecord } from '../store/grants.js';
import type { Actor, OperationContext } from './context.js';

/** A grant as the API and CLI show it. */
export interface PublicGrant {
  id: number;
  subject: string;
  pattern: string;
  actions: string[];
  createdBy: string;
  createdAt: number;
}

function toPublicGrant(grant: GrantRecord): PublicGrant {
  return {
    id: grant.id,
    subject: formatSubject({ kind: grant.subjectKind, name: grant.subjectName }),
    pattern: grant.pattern,
    actions: [...grant.actions],
    createdBy: grant.createdBy,
    createdAt: grant.createdAt,
  };
}

/** Admin operations on grants. */
export class GrantOperations {
  constructor(private readonly ctx: OperationContext) {}

  /** Every grant, or those of one subject (`user:alice`, `anonymous`, …). */
  async list(subject?: unknown): Promise<PublicGrant[]> {
    const filter: { subjectKind?: SubjectKind; subjectName?: string } = {};
    if (subject !== undefined) {
      const parsed = parseSubject(subject);
      filter.subjectKind = parsed.kind;
      filter.subjectName = parsed.name;
    }
    return (await this.ctx.grants.list(filter)).map(toPublicGrant);
  }

  /** Adds a grant (merging actions into an existing grant for the same subject and pattern). */
  async add(actor: Actor, input: { subject: unknown; pattern: unknown; actions: unknown }): Promise<PublicGrant> {
    const subject = parseSubject(input.subject);
    const pattern = assertPattern(input.pattern);
    const actions = parseActions(input.actions);
    return this.ctx.change(actor, 'grant.add', formatSubject(subject), async (trx) => {
      await this.requireSubject(subject, trx);
      const grant = await this.ctx.grants.add(
        { subjectKind: subject.kind, subjectName: subject.name, pattern, actions, createdBy: actor.name, now: this.ctx.now() },
        trx,
      );
      return { result: toPublicGrant(grant), details: { id: grant.id, pattern, actions } };
    });
  }

  /** Removes a grant by id. */
  async remove(actor: Actor, id: unknown): Promise<void> {
    const grantId = typeof id === 'number' ? id : typeof id === 'string' && /^\d{1,15}$/.test(id) ? Number(id) : NaN;
    if (!Number.isSafeInteger(grantId)) throw fail('REQUEST_INVALID', 'grant id must be a number');
    await this.ctx.change(actor, 'grant.remove', `grant:${grantId}`, async (trx) => {
      const grant = await this.ctx.grants.find(grantId, trx);
      if (!grant) throw fail('NOT_FOUND', `no grant with id ${grantId}`);
      await this.ctx.grants.remove(grantId, trx);
      return { result: undefined, details: { ...toPublicGrant(grant) } };
    });
  }

  private async requireSubject(subject: Subject, trx: Queryable): Promise<void> {
    const exists =
      subject.kind === 'user' ? await this.ctx.users.find(subject.name, trx)
      : subject.kind === 'group' ? await this.ctx.groups.find(subject.name, trx)
      : subject.kind === 'robot' ? await this.ctx.robots.find(subject.name, trx)
      : true;
    if (!exists) throw fail('NOT_FOUND', `no ${subject.kind} named ${subject.name}`);
  }
}
