import type { FastifyInstance } from "fastify";
import type { Deps } from "../../usecases/context.ts";
import {
  createWebhook,
  deleteWebhook,
  getWebhook,
  listWebhookDeliveries,
  listWebhooks,
  WEBHOOK_EVENT_TYPES,
} from "../../webhooks/index.ts";
import { errorResponses, idParams, listQuery, pageSchema } from "../schemas.ts";
import { ctxOf, type IdParams, type ListQuery, pageArgs } from "./common.ts";

const tags = ["Webhooks"];
const time = { type: "string", format: "date-time" };
const nullableTime = { type: ["string", "null"], format: "date-time" };
const eventName = { type: "string", enum: [...WEBHOOK_EVENT_TYPES, "*"] };

const webhookSchema = {
  type: "object",
  properties: {
    Id: { type: "string", examples: ["whk_01JD0000000000000000000000"] },
    Url: { type: "string" },
    Events: { type: "array", items: eventName },
    Secret: {
      type: "string",
      description: "whsec_...: verifies signatures (Standard Webhooks). Shown on creation and on GET of one.",
    },
    CreatedAt: time,
    DisabledAt: { ...nullableTime, description: "Set for good when the endpoint answered 410 Gone." },
  },
};

const deliverySchema = {
  type: "object",
  properties: {
    Id: { type: "string" },
    WebhookId: { type: "string" },
    EventType: { type: "string" },
    WebhookMessageId: { type: "string", description: "The webhook-id header, the same on every attempt." },
    JobId: { type: ["string", "null"] },
    CallId: { type: ["string", "null"] },
    Status: { type: "string", enum: ["pending", "delivered", "failed", "abandoned"] },
    Attempts: { type: "integer" },
    LastStatusCode: { type: ["integer", "null"] },
    LastError: { type: ["string", "null"] },
    NextAttemptAt: nullableTime,
    DeliveredAt: nullableTime,
    CreatedAt: time,
  },
};

export function webhookRoutes(app: FastifyInstance, deps: Deps): void {
  app.post(
    "/v1/webhooks",
    {
      schema: {
        tags,
        summary: "Register an endpoint for events; deliveries are signed per Standard Webhooks",
        body: {
          type: "object",
          required: ["Url", "Events"],
          properties: {
            Url: { type: "string", description: "https (or http); public addresses only" },
            Events: { type: "array", minItems: 1, items: eventName },
          },
        },
        response: { 201: webhookSchema, ...errorResponses },
      },
    },
    async (req, reply) =>
      reply.status(201).send(await createWebhook({ ctx: ctxOf(deps, req), input: req.body })),
  );
  app.get<{ Querystring: ListQuery }>(
    "/v1/webhooks",
    {
      schema: {
        tags,
        summary: "The organization's webhooks, oldest first (without their secrets)",
        querystring: { type: "object", properties: listQuery },
        response: { 200: pageSchema(webhookSchema) },
      },
    },
    async (req) => listWebhooks({ ctx: ctxOf(deps, req), ...pageArgs(req.query, "whk") }),
  );
  app.get<{ Params: IdParams }>(
    "/v1/webhooks/:Id",
    {
      schema: {
        tags,
        summary: "One webhook, with its secret",
        params: idParams,
        response: { 200: webhookSchema, ...errorResponses },
      },
    },
    async (req) => getWebhook({ ctx: ctxOf(deps, req), id: req.params.Id }),
  );
  app.delete<{ Params: IdParams }>(
    "/v1/webhooks/:Id",
    {
      schema: {
        tags,
        summary: "Delete a webhook and its delivery log",
        params: idParams,
        response: { 204: { type: "null" }, ...errorResponses },
      },
    },
    async (req, reply) => {
      await deleteWebhook({ ctx: ctxOf(deps, req), id: req.params.Id });
      return reply.status(204).send();
    },
  );
  app.get<{ Params: IdParams; Querystring: ListQuery }>(
    "/v1/webhooks/:Id/deliveries",
    {
      schema: {
        tags,
        summary: "The webhook's delivery log, oldest first",
        params: idParams,
        querystring: { type: "object", properties: listQuery },
        response: { 200: pageSchema(deliverySchema), ...errorResponses },
      },
    },
    async (req) =>
      listWebhookDeliveries({ ctx: ctxOf(deps, req), id: req.params.Id, ...pageArgs(req.query, "dlv") }),
  );
}
