import type { FastifyInstance } from "fastify";
import { parseInbound, takeSimInboundCall } from "../../conversation/inbound.ts";
import { checkUnknownFields, isPlainObject, repliesProblem } from "../../domain/limits.ts";
import { checkPhoneNumber } from "../../domain/phone.ts";
import type { ErrorDetail } from "../../errors/index.ts";
import { validationFailed } from "../../errors/index.ts";
import { registerSimContact, type SimCallBehaviour } from "../../store/sim.ts";
import type { Deps } from "../../usecases/context.ts";

const ANSWERS = ["human", "voicemail", "no_answer", "busy", "failed", "invalid"] as const;

function parseContact(body: unknown): { phone: string; calls: SimCallBehaviour[] } {
  const out: ErrorDetail[] = [];
  if (!isPlainObject(body))
    throw validationFailed([
      {
        Path: "",
        Message: 'must be {"PhoneNumber": "+1...", "Calls": [{"Answer": "human", "Replies": ["yes"]}]}.',
      },
    ]);
  // A misspelt field ("Reply") would otherwise change how the phone behaves without a word.
  checkUnknownFields(body, ["PhoneNumber", "Calls"], "", out);
  const phone = checkPhoneNumber(body.PhoneNumber);
  if (!phone.ok) out.push({ Path: "/PhoneNumber", Message: phone.message });
  const calls: SimCallBehaviour[] = [];
  if (!Array.isArray(body.Calls) || body.Calls.length === 0) {
    out.push({
      Path: "/Calls",
      Message:
        'must list how each call goes, e.g. [{"Answer": "no_answer"}, {"Answer": "human", "Replies": ["yes"]}].',
    });
  } else {
    body.Calls.forEach((c: unknown, i: number) => {
      if (!isPlainObject(c) || !ANSWERS.includes(c.Answer as (typeof ANSWERS)[number])) {
        out.push({ Path: `/Calls/${i}/Answer`, Message: `must be one of ${ANSWERS.join(", ")}.` });
        return;
      }
      checkUnknownFields(c, ["Answer", "Replies"], `/Calls/${i}`, out);
      const replies = c.Replies ?? [];
      const problem = repliesProblem(replies);
      if (problem !== null) {
        out.push({ Path: `/Calls/${i}/Replies`, Message: problem });
        return;
      }
      calls.push({ Answer: c.Answer as SimCallBehaviour["Answer"], Replies: replies as string[] });
    });
  }
  if (out.length > 0 || !phone.ok) throw validationFailed(out);
  return { phone: phone.e164, calls };
}

/** /v1/sim/*: only registered when the simulated carrier is the carrier. */
export function simRoutes(app: FastifyInstance, deps: Deps): void {
  app.post(
    "/v1/sim/contacts",
    {
      schema: {
        tags: ["Simulated carrier"],
        summary:
          "How a phone behaves in the simulated carrier: the n-th outbound call follows Calls[n] (the last repeats)",
        body: {
          type: "object",
          properties: {
            PhoneNumber: { type: "string" },
            Calls: {
              type: "array",
              items: {
                type: "object",
                properties: {
                  Answer: { type: "string", enum: [...ANSWERS] },
                  Replies: { type: "array", items: { type: "string" } },
                },
              },
            },
          },
        },
      },
    },
    async (req, reply) => {
      const c = parseContact(req.body);
      await registerSimContact(deps.db, req.orgId, c.phone, c.calls);
      return reply.status(201).send({ PhoneNumber: c.phone, Calls: c.calls });
    },
  );
  app.post(
    "/v1/sim/calls",
    {
      schema: {
        tags: ["Simulated carrier"],
        summary:
          "A contact calls a campaign number; answers 201 with the finished Call (Status rejected and JobId null when refused)",
        body: {
          type: "object",
          properties: {
            From: { type: "string" },
            To: { type: "string" },
            Replies: { type: "array", items: { type: "string" } },
          },
        },
      },
    },
    async (req, reply) => {
      const runner = deps.conversations;
      if (!runner) throw new Error("no conversation runner");
      const call = await takeSimInboundCall({ deps, orgId: req.orgId }, runner, parseInbound(req.body));
      return reply.status(201).send(call);
    },
  );
}
