import { fieldSchemas } from "../domain/analysisSchema.ts";
import { retryOrFail } from "../domain/outcomes.ts";
import { jobZones, nextOpenTime } from "../schedule/index.ts";
import type { JobContext } from "../store/conversations.ts";
import type { JobDecision } from "../store/dispatch/finish.ts";
import type { EndedBy } from "./actor.ts";
import type { ConversationState } from "./agent.ts";
import { validatorFor } from "./jsonSchema.ts";

export interface AnalysisInput {
  job: JobContext;
  direction: "outbound" | "inbound";
  endedBy: EndedBy;
  state: ConversationState;
  /** Database time at the end of the call. */
  now: Date;
  /** The LLM's extraction over the transcripts, when one is configured (non-null values win). */
  extracted?: Record<string, unknown> | null;
  /** The LLM's verdict on CampaignObjectivePrompt, asked only for a job that would complete. */
  judgeObjective?: () => Promise<boolean | null>;
}

export interface Analysis {
  decision: JobDecision;
  result: Record<string, unknown>;
  /** The contact asked not to be called again (or hung up with HangupOptOut): add the number to the list. */
  optOut: boolean;
  objectiveMet: boolean | null;
  /** For the job's event: the call-back time a test job asked for. */
  eventProps: Record<string, unknown>;
}

const CALLBACK_HORIZON_MS = 30 * 24 * 3600 * 1000;

/**
 * After every answered call, one of: schedule the next call, opt the contact out, or end the job
 * with its Result. The rules are those of the contract's "Outcomes of a call".
 */
export async function analyzeCall(a: AnalysisInput): Promise<Analysis> {
  const { job, state } = a;
  const schedule = job.campaign.Schedule;
  const result = buildResult(job.campaign.AnalysisSchema, job.result, state.answers, a.extracted ?? null);
  const base = { result, optOut: false, objectiveMet: null, eventProps: {} };
  const fail = (reason: string, message: string): Analysis => ({
    ...base,
    decision: { kind: "fail", reason, message },
  });
  // With CampaignObjectivePrompt set, a job that would complete is judged first (a test job's
  // call-back included: it would complete too).
  const judged = async (complete: Analysis): Promise<Analysis> => {
    if (!a.judgeObjective) return complete;
    const met = await a.judgeObjective();
    if (met === false) {
      return {
        ...fail("campaign_objective_missed", "The conversation did not meet the campaign's objective."),
        objectiveMet: false,
      };
    }
    return { ...complete, objectiveMet: met };
  };

  if (a.endedBy === "canceled") return { ...base, decision: { kind: "none" } };
  const intent = state.intent;
  if (intent?.kind === "opt_out")
    return { ...fail("opted_out", "The contact asked not to be called again."), optOut: true };
  if (intent?.kind === "wrong_contact") return fail("wrong_contact", "The number belongs to someone else.");
  if (intent?.kind === "refused") return fail("contact_refused", "The contact refused to take part.");
  const wantsCall =
    intent?.kind === "callback"
      ? { at: intent.at }
      : state.scheduleCallAt
        ? // answered, even if the contact hung up before the closing line
          { at: state.scheduleCallAt }
        : null;
  if (wantsCall) {
    const at =
      wantsCall.at && wantsCall.at > a.now && wantsCall.at.getTime() - a.now.getTime() <= CALLBACK_HORIZON_MS
        ? wantsCall.at
        : null;
    if (job.test_job) {
      return judged({
        ...base,
        decision: { kind: "complete", callback: true },
        eventProps: { callback_at: (at ?? wantsCall.at)?.toISOString() ?? null },
      });
    }
    if (job.callbacks < schedule.MaxCallbacks) {
      const due = at ?? new Date(a.now.getTime() + schedule.RetryDelaySeconds * 1000);
      const next = nextOpenTime(schedule, contactZonesOf(job), due);
      return { ...base, decision: { kind: "retry", at: next, due, callback: true } };
    }
    return { ...base, decision: retryOrFail(job, schedule, "callbacks_used", a.now) };
  }
  if (state.finished) return judged({ ...base, decision: { kind: "complete" } });
  // Unfinished: the contact hung up, the call ran out of time, or an answer never parsed.
  if (a.direction === "inbound") return { ...base, decision: { kind: "restore" } };
  const hangupOptOut = job.hangup_opt_out ?? job.campaign.HangupOptOut;
  if (a.endedBy === "contact" && hangupOptOut) {
    return {
      ...fail("opted_out", "The contact hung up, which counts as an opt-out for this campaign."),
      optOut: true,
    };
  }
  return { ...base, decision: retryOrFail(job, schedule, "unfinished", a.now) };
}

/** The zones whose local time governs the job's contact (see contactZones); never empty. */
export const contactZonesOf = (job: JobContext): string[] => jobZones(job, job.campaign.Schedule);

/**
 * Job.Result: every AnalysisSchema property, null when unknown. A value must validate against its
 * property's schema (else null). The LLM's extraction wins where it found a value; answers saved
 * during calls (this one and earlier ones) fill the rest. Answers a flow saved under names the
 * schema lacks are kept too.
 */
function buildResult(
  schema: Record<string, unknown>,
  previous: Record<string, unknown> | null,
  answers: Record<string, unknown>,
  extracted: Record<string, unknown> | null,
): Record<string, unknown> {
  const props = fieldSchemas(schema);
  const out: Record<string, unknown> = {};
  for (const [name, propSchema] of Object.entries(props)) {
    const candidates = [extracted?.[name], answers[name], previous?.[name]];
    out[name] = null;
    for (const c of candidates) {
      const value = c instanceof Date ? c.toISOString() : c;
      if (value === undefined || value === null) continue;
      if (validatorFor(propSchema)?.(value) ?? true) {
        out[name] = value;
        break;
      }
    }
  }
  // A flow's Save writes its answer into Result under its name even when the schema has no such
  // property (the contract's rule for Save): kept as answered, after the schema's fields.
  for (const [name, answer] of Object.entries(answers)) {
    if (Object.hasOwn(out, name)) continue;
    out[name] = answer instanceof Date ? answer.toISOString() : (answer ?? previous?.[name] ?? null);
  }
  return out;
}
