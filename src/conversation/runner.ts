import type { Config } from "../config/index.ts";
import type { AnsweredCallHandler } from "../dispatcher/index.ts";
import { type RetryCause, retryOrFail } from "../domain/outcomes.ts";
import { isLlmError, type LlmClient } from "../llm/index.ts";
import type { Logger } from "../logging/index.ts";
import { laterOf, primaryZone } from "../schedule/index.ts";
import type { TranscriptEntry } from "../store/calls.ts";
import type { JobContext } from "../store/conversations.ts";
import type { CallClose, JobDecision } from "../store/dispatch/finish.ts";
import { type Db, dbNow, jobTranscripts, loadJobContext } from "../store/index.ts";
import type { CallMedia } from "../telephony/port.ts";
import { renderTemplate, templateScope } from "../templates/index.ts";
import { type ActorResult, runConversation } from "./actor.ts";
import { type ConversationState, emptyState } from "./agent.ts";
import { type Analysis, analyzeCall, contactZonesOf } from "./analysis.ts";
import { buildAgent, campaignModel, modelFor } from "./buildAgent.ts";
import { configurationPauseReason, finishConversation } from "./finish.ts";
import { extractResult, judgeObjective, summarizeCalls, transcriptText } from "./llmAnalysis.ts";
import { TranscriptWriter } from "./transcriptWriter.ts";

export interface ConversationDeps {
  db: Db;
  config: Config;
  logger: Logger;
  /** The OpenAI-compatible client, when COBBERY_LLM_BASE_URL is set. */
  llm: LlmClient | null;
}

/** One live call this process runs, so that it can be ended from outside. */
interface LiveCall {
  abort: AbortController;
}

const END_REASON = {
  agent: "agent_hangup",
  contact: "contact_hangup",
  max_duration: "max_duration",
  canceled: "canceled",
} as const;

export interface ConversationRunner {
  /** Runs answered outbound calls (the dispatcher's handler). */
  onAnswered: AnsweredCallHandler;
  /** Ends a live call run here (cancel, opt-out, PII deletion). */
  hangup(callId: string): void;
  /** The calls whose conversation runs here now. */
  liveCallIds(): string[];
  /** Runs a connected call of a job already taken (in_progress, fenced): outbound or inbound. */
  converse(call: ConnectedCall): Promise<void>;
}

export interface ConnectedCall {
  /** Batches call closes across calls (the dispatcher's); absent: one transaction per call. */
  closer?: { close(item: CallClose): Promise<void> };
  callId: string;
  jobId: string;
  fence: number;
  direction: "outbound" | "inbound";
  by: "human" | "voicemail";
  ringingAt: Date | null;
  answeredAt: Date;
  media: CallMedia;
}

export function createConversationRunner(deps: ConversationDeps): ConversationRunner {
  const transcripts = new TranscriptWriter(deps.db);
  const live = new Map<string, LiveCall>();
  /**
   * Hang-ups for calls not (yet) run here, by the time they came: a cancel can land between the
   * dial and the conversation's start. Every worker hears every hang-up, so entries are dropped
   * after a while.
   */
  const hungUp = new Map<string, number>();
  const HUNG_UP_KEPT_MS = 5 * 60_000;

  async function converse(call: ConnectedCall): Promise<void> {
    // Registered before any wait, so that a hang-up from now on reaches this call.
    const abort = new AbortController();
    live.set(call.callId, { abort });
    if (hungUp.delete(call.callId)) abort.abort("canceled");
    try {
      const job = await loadJobContext(deps.db, call.jobId);
      if (!job) return;
      // Canceled, opted out or deleted since the dial (their hang-up is sent as they commit): the
      // conversation never starts.
      if (job.state !== "in_progress") return await endUnstarted(call);
      if (call.by === "voicemail") return await leaveVoicemail(call, job);
      await talk(call, job, abort);
    } finally {
      live.delete(call.callId);
    }
  }

  /**
   * A call whose job stopped being in progress before the conversation began: hung up and closed as
   * canceled, the job left as its change made it (and no hang-up read as the contact's).
   */
  async function endUnstarted(call: ConnectedCall): Promise<void> {
    const endedAt = laterOf(await call.media.hangup(), call.answeredAt);
    await finishConversation(
      deps.db,
      {
        ...closeTimes(call, endedAt),
        status: "canceled",
        endReason: "canceled",
        answeredBy: call.by,
        decision: { kind: "none" },
        transcript: [],
      },
      null,
    );
  }

  async function talk(call: ConnectedCall, job: JobContext, abort: AbortController): Promise<void> {
    const render = rendererFor(job);
    const schedule = job.campaign.Schedule;
    const zone = primaryZone(contactZonesOf(job), schedule.TimeZone);
    // Earlier transcripts feed the LLM only (agent history, extraction, summary).
    const earlier = deps.llm
      ? (await jobTranscripts(deps.db, job.id)).filter((c) => c.id !== call.callId).map((c) => c.transcript)
      : [];
    let clock = call.answeredAt;
    const said: TranscriptEntry[] = [];
    const state = emptyState(job.conversation);
    const timer = setTimeout(() => abort.abort("max_duration"), schedule.MaxCallSeconds * 1000);
    let result: ActorResult;
    try {
      const agent = buildAgent({
        job,
        render,
        now: () => clock,
        timeZone: zone,
        state,
        config: deps.config,
        llm: deps.llm,
        history: earlier.length ? transcriptText(earlier) : null,
        signal: abort.signal,
      });
      result = await runConversation({
        agent,
        media: call.media,
        direction: call.direction,
        answeredAt: call.answeredAt,
        maxCallSeconds: schedule.MaxCallSeconds,
        signal: abort.signal,
        onEntry: (e) => {
          clock = new Date(e.At);
          said.push(e);
          transcripts.append(call.callId, call.fence, e);
        },
      });
    } catch (e) {
      const endedAt = await call.media.hangup().catch(() => clock);
      transcripts.forget(call.callId);
      // What the call collected before it broke (answers, a stated intent) is kept, as after a call.
      const now = await dbNow(deps.db);
      const kept = await analyzeCall({ job, direction: call.direction, endedBy: "agent", state, now });
      await failForError(call, job, e, {
        transcript: said,
        endedAt: laterOf(endedAt, clock),
        endReason: "agent_hangup",
        status: "completed",
        state,
        analysis: kept,
        now,
      });
      return;
    } finally {
      clearTimeout(timer);
    }
    transcripts.forget(call.callId);
    const now = await dbNow(deps.db);
    const calls = [...earlier, result.transcript];
    let analysis: Analysis;
    let summary: string | null;
    // Kept apart: a later step's failure (the objective's judge) must not lose what was extracted.
    let extracted: Record<string, unknown> | null = null;
    const endReason = result.endedBy === "agent" && state.finished ? "completed" : END_REASON[result.endedBy];
    const status = result.endedBy === "canceled" ? "canceled" : "completed";
    try {
      // With no model for this campaign (none configured, none on the Agent), the analysis runs
      // without the LLM, as with no LLM at all, unless it must judge an objective: modelFor then
      // fails the job configuration_error and pauses the campaign.
      // A canceled call (a cancel, an opt-out, a PII deletion) decides nothing: its words are not
      // sent to the LLM.
      const modelKnown = campaignModel(job, deps.config) !== null;
      const llm =
        result.endedBy !== "canceled" &&
        deps.config.llm &&
        deps.llm &&
        (modelKnown || job.campaign.CampaignObjectivePrompt !== null)
          ? { client: deps.llm, model: modelFor(job, deps.config) }
          : null;
      const objective = job.campaign.CampaignObjectivePrompt;
      // A step the LLM could not answer (failures past the client's retries, output off the
      // schema twice) leaves its part to what the call itself collected; operators see it here.
      const gaveUp = (step: string) =>
        deps.logger.warn({ call: call.callId, job: job.id, step }, "LLM analysis step gave no usable answer");
      extracted = llm ? await extractResult(llm.client, llm.model, job.campaign.AnalysisSchema, calls) : null;
      if (llm && extracted === null) gaveUp("extraction");
      analysis = await analyzeCall({
        job,
        direction: call.direction,
        endedBy: result.endedBy,
        state,
        now,
        extracted,
        ...(llm && objective
          ? {
              judgeObjective: async () => {
                const met = await judgeObjective(llm.client, llm.model, objective, calls);
                if (met === null) gaveUp("objective");
                return met;
              },
            }
          : {}),
      });
      // A call that changed nothing (an inbound call with no outcome) leaves the job's summary as it was.
      summary =
        analysis.decision.kind === "restore"
          ? null
          : ((llm ? await summarizeCalls(llm.client, llm.model, calls) : null) ??
            summarize(state, result, job));
    } catch (e) {
      // What the call decided without the failed step (an intent, the answers collected, what the
      // LLM extracted before a later step failed) is kept.
      const withoutLlm = await analyzeCall({
        job,
        direction: call.direction,
        endedBy: result.endedBy,
        state,
        now,
        extracted,
      });
      await failForError(call, job, e, {
        transcript: result.transcript,
        endedAt: result.endedAt,
        endReason,
        status,
        state,
        analysis: withoutLlm,
        now,
      });
      return;
    }
    const close: CallClose = {
      ...closeTimes(call, result.endedAt),
      scheduleVersion: job.schedule_version,
      status,
      endReason,
      answeredBy: "human",
      decision: analysis.decision,
      transcript: result.transcript,
      eventProps: analysis.eventProps,
      analysis: {
        result: analysis.result,
        summary,
        objectiveMet: analysis.objectiveMet,
        conversation: { answers: serializable(state.answers), answeredNodes: state.answeredNodes },
      },
    };
    if (!analysis.optOut && call.closer) {
      await call.closer.close(close);
      return;
    }
    await finishConversation(
      deps.db,
      close,
      analysis.optOut
        ? { orgId: job.org_id, campaignId: job.campaign.Id, phone: job.phone_number, testJob: job.test_job }
        : null,
    );
  }

  /**
   * A call that broke, during the conversation or in the analysis after it. `broke.analysis` is
   * what the call decided without the LLM: an intent the contact stated (an opt-out, a call-back,
   * ...) still decides the job, the number goes on the opt-out list, and the answers collected are
   * kept in Result. Otherwise a configuration error (the LLM rejects the key, the model does not
   * exist) fails the job configuration_error and pauses the campaign so the other jobs wait (an
   * inbound call leaves its job as it was: the call brought no outcome), and any other failure
   * leaves an unfinished attempt.
   */
  async function failForError(
    call: ConnectedCall,
    job: JobContext,
    e: unknown,
    broke: {
      transcript: TranscriptEntry[];
      endedAt: Date;
      endReason: string;
      status: string;
      state: ConversationState;
      analysis: Analysis;
      /** Database time when the call broke, which its analysis read. */
      now: Date;
    },
  ): Promise<void> {
    const configuration = isLlmError(e) && e.kind === "configuration";
    deps.logger.warn(
      {
        call: call.callId,
        job: job.id,
        kind: isLlmError(e) ? e.kind : "error",
        status: isLlmError(e) ? e.status : null,
      },
      "conversation failed",
    );
    const message = configuration ? (e as Error).message : "The agent failed during the call.";
    // A job the stated intent would complete (a test job's call-back) must first be judged against
    // the objective, which a configuration error prevents: it fails like the others.
    const unjudged =
      configuration &&
      broke.analysis.decision.kind === "complete" &&
      job.campaign.CampaignObjectivePrompt !== null;
    const stated = broke.state.intent && !unjudged ? broke.analysis : null;
    const decision: JobDecision = stated
      ? stated.decision
      : !configuration
        ? unfinished(call, job, "unfinished", broke.now)
        : call.direction === "inbound"
          ? { kind: "restore" }
          : { kind: "fail", reason: "configuration_error", message };
    // Once another call paused the campaign for the same error, a job failing for it waits with the
    // others instead, if it has an attempt left (its call was placed, so the attempt counts); a
    // contact who finished the conversation is not called again for it.
    const waiting =
      decision.kind === "fail" && decision.reason === "configuration_error" && !broke.state.finished
        ? unfinished(call, job, "unfinished", broke.now)
        : null;
    await finishConversation(
      deps.db,
      {
        ...closeTimes(call, broke.endedAt),
        scheduleVersion: job.schedule_version,
        status: broke.status,
        endReason: broke.endReason,
        answeredBy: "human",
        decision,
        transcript: broke.transcript,
        ...(stated ? { eventProps: stated.eventProps } : {}),
        analysis: {
          result: broke.analysis.result,
          summary: null,
          objectiveMet: null,
          conversation: {
            answers: serializable(broke.state.answers),
            answeredNodes: broke.state.answeredNodes,
          },
        },
      },
      stated?.optOut
        ? { orgId: job.org_id, campaignId: job.campaign.Id, phone: job.phone_number, testJob: job.test_job }
        : null,
      configuration
        ? {
            campaignId: job.campaign.Id,
            reason: configurationPauseReason(message),
            ...(waiting?.kind === "retry" ? { whileAlreadyPaused: waiting } : {}),
          }
        : null,
    );
  }

  async function leaveVoicemail(call: ConnectedCall, job: JobContext): Promise<void> {
    const message = job.campaign.Agent.VoicemailMessage;
    const transcript = [];
    if (message) {
      const text = rendererFor(job)(message);
      const at = await call.media.say(text);
      transcript.push({ Role: "agent" as const, Text: text, At: at.toISOString() });
    }
    const endedAt = await call.media.hangup();
    await finishConversation(
      deps.db,
      {
        ...closeTimes(call, endedAt),
        scheduleVersion: job.schedule_version,
        status: "completed",
        endReason: "voicemail",
        answeredBy: "voicemail",
        decision: unfinished(call, job, "voicemail", await dbNow(deps.db)),
        transcript,
      },
      null,
    );
  }

  /** An attempt that did not finish the job: retried or failed when outbound, left as it was when inbound. */
  function unfinished(call: ConnectedCall, job: JobContext, cause: RetryCause, now: Date): JobDecision {
    if (call.direction === "inbound") return { kind: "restore" };
    return retryOrFail(job, job.campaign.Schedule, cause, now);
  }

  return {
    converse,
    onAnswered: (d, o, closer) =>
      converse({
        closer,
        callId: d.claim.callId,
        jobId: d.claim.job.id,
        fence: d.claim.fence,
        direction: "outbound",
        by: o.by,
        ringingAt: o.ringingAt,
        answeredAt: o.answeredAt,
        media: o.media,
      }),
    liveCallIds: () => [...live.keys()],
    hangup(callId) {
      const call = live.get(callId);
      if (call) return call.abort.abort("canceled");
      const now = Date.now();
      for (const [id, at] of hungUp) {
        if (now - at < HUNG_UP_KEPT_MS) break;
        hungUp.delete(id);
      }
      // Deleted first so that the map stays in time order, which the pruning above relies on.
      hungUp.delete(callId);
      hungUp.set(callId, now);
    },
  };
}

/** Renders the campaign's templates for this job (missing variables render empty). */
function rendererFor(job: JobContext): (template: string) => string {
  const scope = templateScope(
    { ContactName: job.contact_name, PhoneNumber: job.phone_number, Metadata: job.metadata, Data: job.data },
    job.campaign,
  );
  return (t) => renderTemplate(t, scope).text;
}

/** The ids and times of a call's close: what every way of ending an answered call writes alike. */
function closeTimes(call: ConnectedCall, endedAt: Date) {
  const connectedMs = Math.max(0, endedAt.getTime() - call.answeredAt.getTime());
  return {
    callId: call.callId,
    jobId: call.jobId,
    fence: call.fence,
    ringingAt: call.ringingAt,
    answeredAt: call.answeredAt,
    endedAt,
    durationSeconds: Math.round(connectedMs / 1000),
    billedSeconds: Math.ceil(connectedMs / 1000),
  };
}

const serializable = (answers: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(answers).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v]));

/** A short summary without an LLM: what was answered and how the call ended (no PII beyond Result). */
function summarize(state: ConversationState, result: ActorResult, job: JobContext): string {
  const fields = Object.keys(job.campaign.AnalysisSchema.properties ?? {});
  const known = fields.filter((f) => state.answers[f] !== undefined && state.answers[f] !== null);
  const how = state.intent
    ? {
        opt_out: "asked not to be called again",
        wrong_contact: "said it was the wrong number",
        refused: "refused",
        callback: "asked to be called back",
      }[state.intent.kind]
    : state.finished
      ? "finished the conversation"
      : {
          agent: "did not finish",
          contact: "hung up before the end",
          max_duration: "ran out of time",
          canceled: "was canceled",
        }[result.endedBy];
  return `The contact ${how}; ${known.length} of ${fields.length} answers collected${known.length ? ` (${known.join(", ")})` : ""}.`;
}
