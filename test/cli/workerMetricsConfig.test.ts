import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError, loadConfig } from "../../src/config/index.ts";

test("COBBERY_WORKER_METRICS_PORT: off by default, a port when set, --metrics-port wins, bad values named", () => {
  assert.equal(loadConfig({}).workerMetricsPort, null);
  assert.equal(loadConfig({ COBBERY_WORKER_METRICS_PORT: "" }).workerMetricsPort, null);
  assert.equal(loadConfig({ COBBERY_WORKER_METRICS_PORT: "9464" }).workerMetricsPort, 9464);
  assert.equal(loadConfig({ COBBERY_WORKER_METRICS_PORT: "0" }).workerMetricsPort, 0);
  assert.equal(
    loadConfig({ COBBERY_WORKER_METRICS_PORT: "9464" }, { workerMetricsPort: 9500 }).workerMetricsPort,
    9500,
  );
  for (const bad of ["abc", "-1", "70000", "94.5"])
    assert.throws(
      () => loadConfig({ COBBERY_WORKER_METRICS_PORT: bad }),
      (e: unknown) => e instanceof ConfigError && /COBBERY_WORKER_METRICS_PORT/.test(e.message),
      bad,
    );
});
