import { type ParseArgsConfig, parseArgs } from "node:util";
import { type Config, ConfigError, loadConfig } from "../config/index.ts";
import { AppError } from "../errors/index.ts";
import { createLogger } from "../logging/index.ts";
import { withAdmin } from "./admin.ts";
import { importJobsFile } from "./importJobs.ts";
import { runWorker, serve } from "./serve.ts";

const USAGE = `Usage: cobbery <command>

  serve [--port N] [--host H] [--data-dir DIR] [--no-worker]   HTTP API + one dispatcher worker
  worker [--metrics-port N] [--host H]   a dispatcher worker alone (needs DATABASE_URL); with a
                                         metrics port it serves GET /metrics and /healthz there
  migrate                                apply database migrations and exit
  keys create --org NAME                 print a new API key for the organization (created if missing)
  keys list --org NAME                   list the organization's keys
  keys revoke KEY_ID                     revoke a key
  jobs import --campaign ID FILE         bulk-create jobs from CSV or NDJSON
  (migrate, keys and jobs take --data-dir DIR too, as serve does: the embedded database they work on)
  demo                                   run a sample campaign offline and print what happened

Configuration comes from the environment (DATABASE_URL, COBBERY_DATA_DIR, PORT, HOST, ...): see README.md.`;

class UsageError extends Error {}

function flags(args: string[], options: NonNullable<ParseArgsConfig["options"]>) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** A port flag's value (decimal digits only: Number() would also take "", "0x10" or "1e3"). */
function portFlag(v: unknown, flag: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "string" || !/^\d{1,5}$/.test(v) || Number(v) > 65535)
    throw new UsageError(`${flag} must be a port number.`);
  return Number(v);
}

/** The configuration, with the embedded database's directory a --data-dir flag names. */
const configWith = (dataDir: unknown): Config =>
  loadConfig(process.env, { dataDir: typeof dataDir === "string" ? dataDir : undefined });

function required(v: unknown, what: string): string {
  if (typeof v !== "string" || v === "") throw new UsageError(`${what} is required.`);
  return v;
}

async function run(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const out = (s: string) => process.stdout.write(`${s}\n`);
  switch (command) {
    case "serve": {
      const f = flags(rest, {
        port: { type: "string" },
        host: { type: "string" },
        "data-dir": { type: "string" },
        "no-worker": { type: "boolean" },
      });
      const config = loadConfig(process.env, {
        port: portFlag(f.values.port, "--port"),
        host: f.values.host as string | undefined,
        dataDir: f.values["data-dir"] as string | undefined,
      });
      await serve(config, { worker: !f.values["no-worker"] });
      return -1; // keeps running
    }
    case "worker": {
      const f = flags(rest, { "metrics-port": { type: "string" }, host: { type: "string" } });
      const config = loadConfig(process.env, {
        workerMetricsPort: portFlag(f.values["metrics-port"], "--metrics-port"),
        host: f.values.host as string | undefined,
      });
      if (!config.databaseUrl) {
        process.stderr.write(
          "cobbery worker needs a PostgreSQL server that several processes can share: set DATABASE_URL (the embedded database serves one process; use 'cobbery serve' for it).\n",
        );
        return 1;
      }
      await runWorker(config);
      return -1;
    }
    case "migrate": {
      const f = flags(rest, { "data-dir": { type: "string" } });
      // Through the running server when it holds the embedded database (it migrated it at start).
      const applied = await withAdmin(configWith(f.values["data-dir"]), (ops) => ops.migrate());
      out(applied.length === 0 ? "Database is up to date." : `Applied ${applied.join(", ")}.`);
      return 0;
    }
    case "keys":
      return keys(rest, out);
    case "jobs": {
      const [sub, ...args] = rest;
      if (sub !== "import") throw new UsageError("Usage: cobbery jobs import --campaign ID FILE");
      const f = flags(args, { campaign: { type: "string" }, "data-dir": { type: "string" } });
      const campaignId = required(f.values.campaign, "--campaign ID");
      const file = required(f.positionals[0], "FILE");
      const summary = await withAdmin(configWith(f.values["data-dir"]), (ops) =>
        importJobsFile({ ops, campaignId, file, progress: process.stderr }),
      );
      return summary.rejected > 0 && summary.created === 0 ? 1 : 0;
    }
    case "demo": {
      const { runDemo } = await import("../demo/index.ts");
      return runDemo(process.stdout);
    }
    case undefined:
    case "help":
    case "--help":
    case "-h":
      out(USAGE);
      return command === undefined ? 1 : 0;
    default:
      throw new UsageError(`Unknown command "${command}".`);
  }
}

async function keys(rest: string[], out: (s: string) => void): Promise<number> {
  const [sub, ...args] = rest;
  const f = flags(args, { org: { type: "string" }, "data-dir": { type: "string" } });
  const config = configWith(f.values["data-dir"]);
  switch (sub) {
    case "create": {
      const org = required(f.values.org, "--org NAME");
      const r = await withAdmin(config, (ops) => ops.createKey(org));
      out(r.key);
      return 0;
    }
    case "list": {
      const org = required(f.values.org, "--org NAME");
      const list = await withAdmin(config, (ops) => ops.listKeys(org));
      if (list === null) {
        process.stderr.write(`No organization named "${org}".\n`);
        return 1;
      }
      out(["ID", "HINT", "CREATED", "REVOKED"].join("\t"));
      for (const k of list) out([k.Id, k.Hint, k.CreatedAt, k.RevokedAt ?? "-"].join("\t"));
      return 0;
    }
    case "revoke": {
      const id = required(f.positionals[0], "KEY_ID");
      const ok = await withAdmin(config, (ops) => ops.revokeKey(id));
      if (!ok) {
        process.stderr.write(`No key ${id}.\n`);
        return 1;
      }
      out(`Revoked ${id}.`);
      return 0;
    }
    default:
      throw new UsageError("Usage: cobbery keys create|list --org NAME, cobbery keys revoke KEY_ID");
  }
}

/**
 * What to say, without a stack, about a failure of what Cobbery runs on rather than of Cobbery (a
 * port already taken, a database that cannot be reached); null for anything else.
 */
function aroundCobbery(e: unknown): string | null {
  const err = e as { code?: unknown; message?: unknown };
  const message = String(err.message);
  switch (err.code) {
    case "EADDRINUSE":
      return `${message}: another process listens on that port. Choose another with --port (or PORT).`;
    case "EACCES":
    case "EPERM":
    case "EROFS":
      return `${message}: permission denied. Choose a data directory of your own with --data-dir (or COBBERY_DATA_DIR), or a port above 1023.`;
    case "EEXIST":
    case "ENOTDIR":
      return `${message}: a file stands where the data directory should be. Choose another with --data-dir (or COBBERY_DATA_DIR).`;
    case "EADDRNOTAVAIL":
      return `${message}: that address is not one of this machine's. Choose another with --host (or HOST).`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return process.env.DATABASE_URL
        ? `Cannot use the database of DATABASE_URL, or the --host (HOST) to listen on: ${message}. Check that each host name resolves.`
        : `${message}: the host name does not resolve. Check --host (or HOST).`;
    case "ECONNREFUSED":
    case "ETIMEDOUT":
    case "EHOSTUNREACH":
    case "3D000": // the database does not exist
    case "28P01": // password authentication failed
    case "28000": // no such role, or not allowed to connect
      return process.env.DATABASE_URL
        ? `Cannot use the database of DATABASE_URL: ${message}. Check the URL and that PostgreSQL is running there.`
        : null;
    default:
      return null;
  }
}

export async function main(argv: string[]): Promise<void> {
  try {
    const code = await run(argv);
    if (code >= 0) process.exitCode = code;
  } catch (e) {
    const around = aroundCobbery(e);
    if (e instanceof UsageError) process.stderr.write(`${e.message}\n\n${USAGE}\n`);
    else if (e instanceof ConfigError || e instanceof AppError) process.stderr.write(`${e.message}\n`);
    else if (around !== null) process.stderr.write(`${around}\n`);
    else {
      createLogger("error", process.stderr as never).error({ err: e }, "command failed");
      process.stderr.write(`${(e as Error).message}\n`);
    }
    process.exitCode = e instanceof UsageError ? 2 : 1;
  }
}
