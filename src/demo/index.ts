import { createApp } from "../app.ts";
import { loadConfig } from "../config/index.ts";
import { createLogger } from "../logging/index.ts";
import { openPglite } from "../store/index.ts";
import { createApiKey } from "../usecases/keys/index.ts";
import { printReport } from "./report.ts";
import { DEMO_CAMPAIGN_NUMBER, demoCampaign, demoContacts } from "./scenario.ts";

const ENDED = new Set(["completed", "failed", "canceled", "deleted"]);

/**
 * `cobbery demo`: a whole sample campaign, offline, on an embedded database in memory and the
 * simulated carrier, through the real HTTP API and dispatcher. Prints progress, then every job.
 */
export async function runDemo(out: NodeJS.WriteStream): Promise<number> {
  const started = Date.now();
  const config = loadConfig({
    ...process.env,
    // Offline whatever the shell exports: no database, carrier, LLM or analytics endpoint of its own.
    DATABASE_URL: "",
    COBBERY_TELEPHONY: "sim",
    COBBERY_LLM_BASE_URL: "",
    COBBERY_POSTHOG_HOST: "",
    COBBERY_DISPATCH_POLL_MS: "100",
    LOG_LEVEL: "silent",
  });
  const db = await openPglite(null);
  const app = await createApp(config, { db, logger: createLogger("silent") });
  const base = await app.api.listen({ port: 0, host: "127.0.0.1" });
  const { key } = await createApiKey(db, "demo");
  // biome-ignore lint/suspicious/noExplicitAny: the demo reads API answers as plain JSON
  const api = async (method: string, path: string, body?: unknown): Promise<any> => {
    const res = await fetch(base + path, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = await res.json();
    if (res.status >= 400) throw new Error(`${method} ${path}: ${JSON.stringify(json)}`);
    return json;
  };
  const dispatcher = app.newDispatcher();
  try {
    out.write(
      `Cobbery demo: a housing survey over ${demoContacts.length} simulated contacts (offline, no keys).\n\n`,
    );
    const campaign = await api("POST", "/v1/campaigns", demoCampaign);
    const ids = new Map<string, string>();
    for (const c of demoContacts) {
      await api("POST", "/v1/sim/contacts", { PhoneNumber: c.phone, Calls: c.calls });
      const job = await api("POST", `/v1/campaigns/${campaign.Id}/jobs`, {
        PhoneNumber: c.phone,
        ContactName: c.name,
        Metadata: { story: c.story },
        TestJob: c.testJob === true,
      });
      ids.set(job.Id, c.name);
    }
    await dispatcher.start();
    const pendingCallBacks = demoContacts.filter((c) => c.callsBack);
    const tty = out.isTTY === true;
    for (;;) {
      const jobs = (await api("GET", `/v1/jobs?CampaignId=${campaign.Id}&Limit=1000`)).Items as Array<{
        Id: string;
        State: string;
        Attempts: number;
        PhoneNumber: string;
      }>;
      // A contact who missed our call calls the campaign number back.
      for (const c of [...pendingCallBacks]) {
        const j = jobs.find((x) => x.PhoneNumber === c.phone);
        if (j && j.Attempts >= 1 && j.State === "pending") {
          pendingCallBacks.splice(pendingCallBacks.indexOf(c), 1);
          await api("POST", "/v1/sim/calls", {
            From: c.phone,
            To: DEMO_CAMPAIGN_NUMBER,
            Replies: c.callsBack,
          });
        }
      }
      const ended = jobs.filter((j) => ENDED.has(j.State)).length;
      const calls = jobs.reduce((n, j) => n + j.Attempts, 0);
      const line = `  ${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s  ${ended}/${jobs.length} jobs ended, ${calls} outbound calls placed`;
      out.write(tty ? `\r${line}` : `${line}\n`);
      if (ended === jobs.length || Date.now() - started > 55_000) break;
      await new Promise((r) => setTimeout(r, tty ? 200 : 1000));
    }
    out.write("\n\n");
    await printReport(out, api, campaign.Id, ids);
    out.write(
      `\nDone in ${((Date.now() - started) / 1000).toFixed(1)} s. Run 'npm start' for the API, and see README.md.\n`,
    );
    return 0;
  } finally {
    await dispatcher.stop(2000);
    await app.close();
  }
}
