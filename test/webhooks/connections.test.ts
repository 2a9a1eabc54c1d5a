import assert from "node:assert/strict";
import net from "node:net";
import { after, before, test } from "node:test";
import { postDelivery } from "../../src/webhooks/post.ts";

// A receiver that answers the first request of each connection, keeping it open, and resets a
// connection when a second request comes on it: what a receiver closing an idle connection at the
// moment it is reused looks like to the sender.
let server: net.Server;
let url = "";
let connections = 0;
let resets = 0;

before(async () => {
  server = net.createServer((socket) => {
    connections++;
    let requests = 0;
    socket.on("data", (chunk) => {
      requests += chunk.toString("latin1").split("POST ").length - 1;
      if (requests === 1)
        socket.write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n");
      else if (requests > 1) {
        resets++;
        socket.resetAndDestroy();
      }
    });
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/hooks`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

const post = () => postDelivery(url, {}, '{"type":"job.created"}', { timeoutMs: 5_000, allowPrivate: true });

test("a kept connection the receiver resets on reuse: the delivery is sent again once, on a new connection", async () => {
  assert.equal((await post()).statusCode, 200);
  assert.equal(connections, 1);
  const second = await post();
  assert.equal(resets, 1, "the second delivery went out on the kept connection");
  assert.deepEqual(second, { statusCode: 200, retryAfter: undefined, error: null });
  assert.equal(connections, 2, "then on a new connection");
});
