import type { FastifyReply, FastifyRequest } from "fastify";
import { AppError } from "../errors/index.ts";
import type { Db } from "../store/index.ts";
import { authenticate } from "../usecases/keys/index.ts";

declare module "fastify" {
  interface FastifyRequest {
    orgId: string;
  }
}

const unauthorized = (msg: string) => new AppError("unauthorized", msg);

/** Bearer keys: every /v1 route runs for the key's organization. */
export function authHook(db: Db) {
  return async (req: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const h = req.headers.authorization;
    if (!h)
      throw unauthorized(
        "Missing Authorization header: send 'Authorization: Bearer <key>' (create a key with 'bin/cobbery keys create --org NAME').",
      );
    const m = /^Bearer\s+(\S+)$/i.exec(h);
    if (!m) throw unauthorized("The Authorization header must be 'Bearer <key>'.");
    const found = await authenticate(db, m[1] as string);
    if (!found) throw unauthorized("The API key is not valid or was revoked.");
    req.orgId = found.orgId;
  };
}
