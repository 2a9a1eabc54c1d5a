/**
 * The importer under measurement, in its own process: exactly what `bin/cobbery jobs import --campaign
 * ID FILE` runs (the CLI's main), with DATABASE_URL from the environment. Reports its wall time and
 * peak RSS to the parent over the IPC channel.
 */
import { main } from "../../src/cli/main.ts";

const [campaignId, file] = process.argv.slice(2);
if (!campaignId || !file || !process.send) {
  process.stderr.write("usage: forked by bench/import/run.ts with CAMPAIGN_ID FILE\n");
  process.exit(2);
}
const peak = { rss: 0 };
const sample = setInterval(() => {
  peak.rss = Math.max(peak.rss, process.memoryUsage.rss());
}, 50);
const started = performance.now();
await main(["jobs", "import", "--campaign", campaignId, file]);
const wallMs = performance.now() - started;
clearInterval(sample);
const usage = process.resourceUsage();
process.send(
  {
    wallMs,
    exitCode: process.exitCode ?? 0,
    // maxRSS is in kilobytes and covers the whole process (worker threads included).
    maxRssBytes: Math.max(usage.maxRSS * 1024, peak.rss),
    cpuUserMs: usage.userCPUTime / 1000,
    cpuSystemMs: usage.systemCPUTime / 1000,
  },
  () => process.disconnect(),
);
