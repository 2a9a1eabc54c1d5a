// biome-ignore lint/suspicious/noExplicitAny: the demo reads API answers as plain JSON
type Api = (method: string, path: string, body?: unknown) => Promise<any>;

const cell = (v: unknown, width: number) => {
  const s = v === null || v === undefined ? "-" : typeof v === "string" ? v : JSON.stringify(v);
  return s.length > width ? `${s.slice(0, width - 1)}…` : s.padEnd(width);
};

/** Prints every job of the campaign (state, failure reason, Result) and the outcome counts. */
export async function printReport(
  out: NodeJS.WriteStream,
  api: Api,
  campaignId: string,
  names: Map<string, string>,
): Promise<void> {
  // biome-ignore lint/suspicious/noExplicitAny: plain JSON
  const jobs = (await api("GET", `/v1/jobs?CampaignId=${campaignId}&Limit=1000`)).Items as any[];
  const header = `${cell("Contact", 12)} ${cell("State", 10)} ${cell("FailureReason", 22)} ${cell("Calls", 5)} ${cell("Result", 48)} Story`;
  out.write(`${header}\n${"-".repeat(header.length + 30)}\n`);
  for (const j of jobs) {
    const calls = (await api("GET", `/v1/jobs/${j.Id}/calls`)).Items.length;
    const name = names.get(j.Id) ?? j.ContactName ?? j.Id;
    const test = j.TestJob ? " (test)" : "";
    out.write(
      `${cell(name.split(" ")[0], 12)} ${cell(j.State, 10)} ${cell(j.FailureReason, 22)} ${cell(String(calls), 5)} ${cell(j.Result, 48)} ${j.Metadata?.story ?? ""}${test}\n`,
    );
  }
  const a = await api("GET", `/v1/campaigns/${campaignId}/analytics`).catch(() => null);
  const byState: Record<string, number> = {};
  const byReason: Record<string, number> = {};
  for (const j of jobs) {
    byState[j.State] = (byState[j.State] ?? 0) + 1;
    if (j.FailureReason) byReason[j.FailureReason] = (byReason[j.FailureReason] ?? 0) + 1;
  }
  out.write(
    `\nOutcomes: ${Object.entries(byState)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}\n`,
  );
  out.write(
    `Failure reasons: ${Object.entries(byReason)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}\n`,
  );
  if (a)
    out.write(
      `Analytics (test jobs left out): answer rate ${Math.round(a.Calls.AnswerRate * 100)}%, ${a.Calls.Total} calls\n`,
    );
}
