/**
 * Small request bodies (token requests, admin API calls) read whole with a hard bound, for
 * both services: a declared or received size over the bound is PAYLOAD_TOO_LARGE, bytes
 * that are no UTF-8 or no JSON object are REQUEST_INVALID, never a 500.
 */
import type { Context } from 'koa';
import { fail } from './errors.js';

/** Token and admin requests are small; anything larger is refused while reading. */
export const BODY_LIMIT_BYTES = 64 * 1024;

/** The body as UTF-8 text. */
export async function readBody(ctx: Context): Promise<string> {
  const declared = Number(ctx.get('content-length') || '0');
  if (declared > BODY_LIMIT_BYTES) throw fail('PAYLOAD_TOO_LARGE', `request body larger than ${BODY_LIMIT_BYTES} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > BODY_LIMIT_BYTES) throw fail('PAYLOAD_TOO_LARGE', `request body larger than ${BODY_LIMIT_BYTES} bytes`);
    chunks.push(buffer);
  }
  const text = Buffer.concat(chunks);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(text);
  } catch {
    throw fail('REQUEST_INVALID', 'request body is not valid UTF-8');
  }
}

/** Reads a JSON object body (an empty body reads as `{}`). */
export async function readJsonObject(ctx: Context): Promise<Record<string, unknown>> {
  const text = await readBody(ctx);
  if (text.trim() === '') return {};
  if (!ctx.is('application/json')) throw fail('REQUEST_INVALID', 'expected a body of type application/json');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw fail('REQUEST_INVALID', 'request body is not valid JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw fail('REQUEST_INVALID', 'request body must be a JSON object');
  return value as Record<string, unknown>;
}
