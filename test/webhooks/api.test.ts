import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startTestApp, type TestApp } from "../helpers/app.ts";

describe("webhooks API", () => {
  let t: TestApp;
  let open: TestApp;
  before(async () => {
    t = await startTestApp();
    open = await startTestApp({ COBBERY_ALLOW_PRIVATE_WEBHOOKS: "true" });
  });
  after(async () => {
    await t.close();
    await open.close();
  });

  test("create answers 201 with the webhook and its secret; GET one shows it, the list does not", async () => {
    const created = await open.request("POST", "/v1/webhooks", {
      Url: "http://127.0.0.1:9/hooks",
      Events: ["job.created", "job.canceled", "job.created"],
    });
    assert.equal(created.status, 201);
    const w = created.body;
    assert.match(w.Id, /^whk_[0-9A-Z]{26}$/);
    assert.equal(w.Url, "http://127.0.0.1:9/hooks");
    assert.deepEqual(w.Events, ["job.created", "job.canceled"]);
    assert.match(w.Secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    assert.equal(w.DisabledAt, null);
    assert.ok(!Number.isNaN(Date.parse(w.CreatedAt)));

    const one = await open.request("GET", `/v1/webhooks/${w.Id}`);
    assert.equal(one.status, 200);
    assert.deepEqual(one.body, w);

    const second = await open.request("POST", "/v1/webhooks", { Url: "https://127.0.0.1/x", Events: ["*"] });
    assert.equal(second.status, 201);
    const page1 = await open.request("GET", "/v1/webhooks?Limit=1");
    assert.equal(page1.status, 200);
    assert.equal(page1.body.Items.length, 1);
    assert.equal(page1.body.Items[0].Id, w.Id);
    assert.equal("Secret" in page1.body.Items[0], false, "lists hide secrets");
    assert.ok(page1.body.NextCursor);
    const page2 = await open.request("GET", `/v1/webhooks?Limit=1&Cursor=${page1.body.NextCursor}`);
    assert.deepEqual(
      page2.body.Items.map((x: any) => x.Id),
      [second.body.Id],
    );
    assert.equal(page2.body.NextCursor, null);

    const log = await open.request("GET", `/v1/webhooks/${w.Id}/deliveries`);
    assert.equal(log.status, 200);
    assert.deepEqual(log.body, { Items: [], NextCursor: null });

    assert.equal((await open.request("DELETE", `/v1/webhooks/${w.Id}`)).status, 204);
    assert.equal((await open.request("GET", `/v1/webhooks/${w.Id}`)).status, 404);
    assert.equal((await open.request("DELETE", `/v1/webhooks/${w.Id}`)).status, 404);
    assert.equal((await open.request("GET", `/v1/webhooks/${w.Id}/deliveries`)).status, 404);
  });

  test("validation: URL scheme and form, Events non-empty and known", async () => {
    const cases: Array<[unknown, string]> = [
      [{ Events: ["*"] }, "/Url"],
      [{ Url: "ftp://example.com/x", Events: ["*"] }, "/Url"],
      [{ Url: "not a url", Events: ["*"] }, "/Url"],
      [{ Url: "https://user:pw@example.com/x", Events: ["*"] }, "/Url"],
      [{ Url: "https://example.com/x", Events: [] }, "/Events"],
      [{ Url: "https://example.com/x" }, "/Events"],
      [{ Url: "https://example.com/x", Events: ["job.created", "job.exploded"] }, "/Events/1"],
      [{ Url: "https://example.com/x", Events: [42] }, "/Events/0"],
    ];
    for (const [body, path] of cases) {
      const r = await open.request("POST", "/v1/webhooks", body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.body.Error.Code, "validation_failed");
      assert.equal(r.body.Error.Details[0].Path, path, JSON.stringify(body));
    }
    assert.equal((await open.request("POST", "/v1/webhooks", "[1]")).status, 400);
  });

  test("loopback, private, link-local, CGNAT, unspecified and multicast URLs are refused without the setting", async () => {
    for (const url of [
      "http://127.0.0.1:8080/x",
      "http://localhost:8080/x",
      "https://10.1.2.3/x",
      "https://172.20.0.1/x",
      "https://192.168.1.10/x",
      "https://169.254.169.254/latest",
      "https://100.64.0.7/x",
      "https://0.0.0.0/x",
      "https://224.0.0.1/x",
      "https://[::1]/x",
      "https://[fd00::1]/x",
      "https://[fe80::1]/x",
      "https://[::ffff:127.0.0.1]/x",
      // IPv4 carried in IPv6: compatible, translated, NAT64 (well-known and local-use), 6to4.
      "https://[::127.0.0.1]/x",
      "https://[::ffff:0:10.0.0.1]/x",
      "https://[64:ff9b::a00:1]/x",
      "https://[64:ff9b:1::a00:1]/x",
      "https://[2002:7f00:1::]/x",
      "https://[2002:c0a8:101::1]/x",
      // ::2 is 0.0.0.2; Teredo carries 127.0.0.1 inverted.
      "https://[::2]/x",
      "https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/x",
    ]) {
      const r = await t.request("POST", "/v1/webhooks", { Url: url, Events: ["*"] });
      assert.equal(r.status, 400, url);
      assert.equal(r.body.Error.Details[0].Path, "/Url", url);
      assert.match(r.body.Error.Message, /COBBERY_ALLOW_PRIVATE_WEBHOOKS/);
      // What the host resolves to is not told back.
      assert.doesNotMatch(JSON.stringify(r.body), /\d+\.\d+\.\d+\.\d+\)|\(::|\([0-9a-f]*:[0-9a-f:]*\)/i, url);
    }
    // A public address in 6to4 form is as public as the one it carries.
    const sixToFour = await t.request("POST", "/v1/webhooks", {
      Url: "https://[2002:5db8:d70e::1]/x",
      Events: ["*"],
    });
    assert.equal(sixToFour.status, 201, JSON.stringify(sixToFour.body));
    const teredo = await t.request("POST", "/v1/webhooks", {
      Url: "https://[2001:0:4136:e378:8000:63bf:a247:28f1]/x",
      Events: ["*"],
    });
    assert.equal(teredo.status, 201, JSON.stringify(teredo.body));
    // A public address literal needs no DNS and is accepted.
    const ok = await t.request("POST", "/v1/webhooks", { Url: "https://93.184.215.14/hooks", Events: ["*"] });
    assert.equal(ok.status, 201);
  });

  test("another organization's webhooks answer 404", async () => {
    const mine = await open.request("POST", "/v1/webhooks", { Url: "http://127.0.0.1:9/a", Events: ["*"] });
    assert.equal(mine.status, 201);
    const other = await open.newOrgKey("globex");
    const opts = { key: other };
    assert.equal((await open.request("GET", `/v1/webhooks/${mine.body.Id}`, undefined, opts)).status, 404);
    assert.equal(
      (await open.request("GET", `/v1/webhooks/${mine.body.Id}/deliveries`, undefined, opts)).status,
      404,
    );
    assert.equal((await open.request("DELETE", `/v1/webhooks/${mine.body.Id}`, undefined, opts)).status, 404);
    const list = await open.request("GET", "/v1/webhooks", undefined, opts);
    assert.deepEqual(list.body.Items, []);
    assert.equal((await open.request("GET", `/v1/webhooks/${mine.body.Id}`)).status, 200, "still there");
  });

  test("the OpenAPI document lists the webhook routes", async () => {
    const doc = await t.request("GET", "/openapi.json", undefined, { key: null });
    for (const p of ["/v1/webhooks", "/v1/webhooks/{Id}", "/v1/webhooks/{Id}/deliveries"])
      assert.ok(doc.body.paths[p], p);
  });
});
