import { randomBytes } from "node:crypto";
import { isPlainObject } from "../domain/limits.ts";
import { type ErrorDetail, notFound, validationFailed } from "../errors/index.ts";
import { newId } from "../ids/index.ts";
import {
  type DeliveryRow,
  type DeliveryStatus,
  deleteWebhookRow,
  getWebhookRow,
  insertWebhook,
  listDeliveryRows,
  listWebhookRows,
  type WebhookRow,
} from "../store/index.ts";
import { type Ctx, type Page, toPage } from "../usecases/context.ts";
import { DestinationRefused, hostOf, resolvePublic, urlProblem } from "./destination.ts";
import { ALL_EVENTS, isWebhookEventType, WEBHOOK_EVENT_TYPES } from "./events.ts";

/** A webhook as the API shows it; Secret only on creation and on GET of one. */
export interface Webhook {
  Id: string;
  Url: string;
  Events: string[];
  Secret?: string;
  CreatedAt: string;
  DisabledAt: string | null;
}

export interface WebhookDelivery {
  Id: string;
  WebhookId: string;
  EventType: string;
  WebhookMessageId: string;
  JobId: string | null;
  CallId: string | null;
  Status: DeliveryStatus;
  Attempts: number;
  LastStatusCode: number | null;
  LastError: string | null;
  NextAttemptAt: string | null;
  DeliveredAt: string | null;
  CreatedAt: string;
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

function toWebhook(r: WebhookRow, withSecret: boolean): Webhook {
  return {
    Id: r.id,
    Url: r.url,
    Events: r.events,
    ...(withSecret ? { Secret: r.secret } : {}),
    CreatedAt: r.created_at.toISOString(),
    DisabledAt: iso(r.disabled_at),
  };
}

function toDelivery(r: DeliveryRow): WebhookDelivery {
  return {
    Id: r.id,
    WebhookId: r.webhook_id,
    EventType: r.event_type,
    WebhookMessageId: r.message_id,
    JobId: r.job_id,
    CallId: r.call_id,
    Status: r.status,
    Attempts: r.attempts,
    LastStatusCode: r.last_status_code,
    LastError: r.last_error,
    NextAttemptAt: r.status === "pending" ? iso(r.next_attempt_at) : null,
    DeliveredAt: iso(r.delivered_at),
    CreatedAt: r.created_at.toISOString(),
  };
}

const EXAMPLE = '{"Url": "https://example.com/hooks/cobbery", "Events": ["job.completed"]}';

function eventsOf(raw: unknown, out: ErrorDetail[]): string[] {
  const known = `one of ${WEBHOOK_EVENT_TYPES.join(", ")}, or "*" for every event`;
  if (!Array.isArray(raw) || raw.length === 0) {
    out.push({ Path: "/Events", Message: `must be a non-empty array of event names, each ${known}.` });
    return [];
  }
  raw.forEach((e, i) => {
    if (typeof e !== "string" || (e !== ALL_EVENTS && !isWebhookEventType(e)))
      out.push({ Path: `/Events/${i}`, Message: `must be ${known}.` });
  });
  return [...new Set(raw.filter((e): e is string => typeof e === "string"))];
}

/** Secrets as Standard Webhooks libraries read them: whsec_ + base64 of 32 random bytes. */
const newWebhookSecret = (): string => `whsec_${randomBytes(32).toString("base64")}`;

/**
 * POST /v1/webhooks. Unless COBBERY_ALLOW_PRIVATE_WEBHOOKS=true, the host must resolve, and only to
 * public addresses (it is checked again before every delivery).
 */
export async function createWebhook({ ctx, input }: { ctx: Ctx; input: unknown }): Promise<Webhook> {
  if (!isPlainObject(input))
    throw validationFailed([{ Path: "", Message: `must be an object like ${EXAMPLE}.` }]);
  const out: ErrorDetail[] = [];
  const u = urlProblem(input.Url);
  if ("problem" in u) out.push({ Path: "/Url", Message: u.problem });
  const events = eventsOf(input.Events, out);
  if (out.length > 0 || "problem" in u) throw validationFailed(out);
  if (!ctx.deps.config.allowPrivateWebhooks) {
    try {
      await resolvePublic(hostOf(u.url));
    } catch (e) {
      const why = e instanceof DestinationRefused ? e.message : "the host does not resolve";
      throw validationFailed([
        {
          Path: "/Url",
          Message: `cannot receive webhooks: ${why}. Use a public address (loopback and private addresses need COBBERY_ALLOW_PRIVATE_WEBHOOKS=true, for local development).`,
        },
      ]);
    }
  }
  const row = await insertWebhook(ctx.deps.db, {
    id: newId("whk"),
    orgId: ctx.orgId,
    url: (input.Url as string).trim(),
    events,
    secret: newWebhookSecret(),
  });
  return toWebhook(row, true);
}

async function webhookOf(ctx: Ctx, id: string): Promise<WebhookRow> {
  const row = await getWebhookRow(ctx.deps.db, ctx.orgId, id);
  if (!row) throw notFound("Webhook", id);
  return row;
}

export async function getWebhook({ ctx, id }: { ctx: Ctx; id: string }): Promise<Webhook> {
  return toWebhook(await webhookOf(ctx, id), true);
}

export async function listWebhooks({
  ctx,
  cursor,
  limit,
}: {
  ctx: Ctx;
  cursor: string | null;
  limit: number;
}): Promise<Page<Webhook>> {
  const rows = await listWebhookRows(ctx.deps.db, ctx.orgId, cursor, limit + 1);
  return toPage(
    rows,
    limit,
    (r) => toWebhook(r, false),
    (r) => r.id,
  );
}

/** DELETE /v1/webhooks/{Id}: the webhook and its delivery log go; nothing more is sent to it. */
export async function deleteWebhook({ ctx, id }: { ctx: Ctx; id: string }): Promise<void> {
  if (!(await deleteWebhookRow(ctx.deps.db, ctx.orgId, id))) throw notFound("Webhook", id);
}

export async function listWebhookDeliveries({
  ctx,
  id,
  cursor,
  limit,
}: {
  ctx: Ctx;
  id: string;
  cursor: string | null;
  limit: number;
}): Promise<Page<WebhookDelivery>> {
  await webhookOf(ctx, id);
  const rows = await listDeliveryRows(ctx.deps.db, id, cursor, limit + 1);
  return toPage(rows, limit, toDelivery, (r) => r.id);
}
