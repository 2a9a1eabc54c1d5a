// Helpers for the end-to-end conversation tests: a three-question survey campaign, and a small
// client over the HTTP API and the simulated carrier.
import assert from "node:assert/strict";
import type { SimCall, TestApp } from "./app.ts";
import { newJob, simContact, waitFor } from "./app.ts";

export type { SimCall } from "./app.ts";

export const ALL_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
export const ANY_TIME = [{ Days: ALL_DAYS, Start: "00:00", End: "24:00" }];

export const INTRO = "Do you have two minutes for a short survey?";
export const SIZE_Q = "How many people live in your household?";
export const INCOME_Q = "Is your income under 30k, 30k to 60k, or over 60k?";
export const LATER_Q = "When should we call you back?";
export const BYE = "Thank you, that is all.";
export const BYE_LATER = "Thanks, talk to you then.";
export const CHOICES = ["under 30k", "30k to 60k", "over 60k"];

export const SURVEY_SCHEMA = {
  type: "object",
  properties: {
    household_size: { type: "integer", minimum: 1 },
    income_band: { type: "string", enum: CHOICES },
    notes: { type: "string" },
  },
};

/** The survey flow of the contract's section 6 (the "later" branch schedules the next call). */
export function surveyFlow(over: { sizeNext?: unknown; start?: string; inboundStart?: string } = {}) {
  return {
    Start: over.start ?? "intro",
    ...(over.inboundStart ? { InboundStart: over.inboundStart } : {}),
    Nodes: {
      intro: { Say: INTRO, Expect: "yes_no", Next: { yes: "size", no: "later" } },
      size: { Say: SIZE_Q, Expect: "number", Save: "household_size", Next: over.sizeNext ?? "income" },
      income: { Say: INCOME_Q, Expect: "choice", Choices: CHOICES, Save: "income_band", Next: "bye" },
      later: { Say: LATER_Q, Expect: "datetime", Action: "schedule_call", Next: "bye_later" },
      bye: { Say: BYE, End: true },
      bye_later: { Say: BYE_LATER, End: true },
      welcome: { Say: "Thanks for calling us back.", Next: "size" },
    },
  };
}

export interface SurveyOptions {
  schedule?: Record<string, unknown>;
  agent?: Record<string, unknown>;
  flow?: Parameters<typeof surveyFlow>[0];
  [field: string]: unknown;
}

/** A flow survey campaign open at any hour, retried at once (RetryDelaySeconds 0). */
export function surveyCampaign(o: SurveyOptions = {}): Record<string, unknown> {
  const { schedule, agent, flow, ...extra } = o;
  return {
    Name: "Housing survey (e2e)",
    Agent: {
      Type: "flow",
      FirstMessage: "Hi {{ Job.ContactName }}, this is Ana from Acme Housing.",
      Flow: surveyFlow(flow),
      ...agent,
    },
    AnalysisSchema: SURVEY_SCHEMA,
    Schedule: {
      TimeZone: "America/New_York",
      Windows: ANY_TIME,
      MaxAttempts: 1,
      RetryDelaySeconds: 0,
      ...schedule,
    },
    ...extra,
  };
}

/** A thin client over the API for conversation tests. */
export class Api {
  constructor(readonly t: TestApp) {}

  async campaign(body: Record<string, unknown>): Promise<any> {
    const r = await this.t.request("POST", "/v1/campaigns", body);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body;
  }

  job(campaignId: string, body: Record<string, unknown>): Promise<any> {
    return newJob(this.t, campaignId, body);
  }

  sim(phone: string, calls: SimCall[]): Promise<void> {
    return simContact(this.t, phone, calls);
  }

  async getJob(id: string): Promise<any> {
    const r = await this.t.request("GET", `/v1/jobs/${id}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body;
  }

  async calls(jobId: string): Promise<any[]> {
    const r = await this.t.request("GET", `/v1/jobs/${jobId}/calls`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.Items;
  }

  /** Waits for the job to reach an end state (completed, failed, canceled, deleted). */
  ended(id: string, timeoutMs = 15_000): Promise<any> {
    return waitFor(
      async () => {
        const j = await this.getJob(id);
        return j.State !== "pending" && j.State !== "in_progress" ? j : undefined;
      },
      timeoutMs,
      `job ${id} to end`,
    );
  }

  /** Waits until check(job) holds. */
  until(id: string, check: (j: any) => boolean, what: string, timeoutMs = 15_000): Promise<any> {
    return waitFor(
      async () => {
        const j = await this.getJob(id);
        return check(j) ? j : undefined;
      },
      timeoutMs,
      `job ${id}: ${what}`,
    );
  }

  /** Waits until the job has `n` ended calls and is not in progress (pending or ended). */
  settledAfterCalls(id: string, n: number, timeoutMs = 15_000): Promise<any> {
    return waitFor(
      async () => {
        const j = await this.getJob(id);
        if (j.State === "in_progress") return undefined;
        const cs = await this.calls(id);
        return cs.length >= n && cs.every((c) => c.EndedAt !== null) ? j : undefined;
      },
      timeoutMs,
      `job ${id} to settle after ${n} calls`,
    );
  }

  /** An inbound call in the simulated carrier: the finished Call (or the error). */
  inbound(from: string, to: string, replies: string[]) {
    return this.t.request("POST", "/v1/sim/calls", { From: from, To: to, Replies: replies });
  }

  /** The events stored for a job, oldest first, straight from the database. */
  async events(
    jobId: string,
  ): Promise<Array<{ event: string; test_job: boolean; properties: Record<string, any> }>> {
    const r = await this.t.database.db.query<{
      event: string;
      test_job: boolean;
      properties: Record<string, any>;
    }>("select event, test_job, properties from events where job_id = $1 order by seq", [jobId]);
    return r.rows;
  }
}

/** Contact turns never follow each other, and the agent's turns (one or more lines) alternate with them. */
export function assertAlternates(transcript: Array<{ Role: string }>): void {
  const turns = transcript.map((e) => e.Role).filter((r, i, a) => i === 0 || a[i - 1] !== r);
  for (let i = 0; i < turns.length; i++) assert.equal(turns[i], i % 2 === 0 ? "agent" : "contact");
  for (const e of transcript) assert.ok(e.Role === "agent" || e.Role === "contact");
}

/** The connected seconds of a call, rounded up: what a connected call bills. */
export function billedOf(call: { AnsweredAt: string; EndedAt: string }): number {
  return Math.ceil((Date.parse(call.EndedAt) - Date.parse(call.AnsweredAt)) / 1000);
}

/** The wall-clock date in `zone` at `instant`. */
export function localDate(instant: Date, zone: string): { year: number; month: number; day: number } {
  const f = new Intl.DateTimeFormat("en-US", {
    timeZone: zone,
    year: "numeric",
    month: "numeric",
    day: "numeric",
  });
  const p = Object.fromEntries(f.formatToParts(instant).map((x) => [x.type, x.value]));
  return { year: Number(p.year), month: Number(p.month), day: Number(p.day) };
}

/** The instant at which the wall clock in `zone` reads the given date at hour:00 (no DST edge cases needed). */
export function zonedInstant(
  d: { year: number; month: number; day: number },
  hour: number,
  zone: string,
): Date {
  const naive = Date.UTC(d.year, d.month - 1, d.day, hour);
  const f = new Intl.DateTimeFormat("en-US", {
    timeZone: zone,
    hourCycle: "h23",
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
  });
  for (let offsetH = -14; offsetH <= 14; offsetH++) {
    const at = new Date(naive - offsetH * 3600_000);
    const p = Object.fromEntries(f.formatToParts(at).map((x) => [x.type, x.value]));
    if (
      Number(p.year) === d.year &&
      Number(p.month) === d.month &&
      Number(p.day) === d.day &&
      Number(p.hour) % 24 === hour
    )
      return at;
  }
  throw new Error("no such local time");
}

/** The calendar day after `d`. */
export function nextDay(d: { year: number; month: number; day: number }) {
  const x = new Date(Date.UTC(d.year, d.month - 1, d.day + 1));
  return { year: x.getUTCFullYear(), month: x.getUTCMonth() + 1, day: x.getUTCDate() };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
