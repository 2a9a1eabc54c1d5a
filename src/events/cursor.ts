import { createCipheriv, createDecipheriv } from "node:crypto";
import type { Db } from "../store/db.ts";
import { eventCursorKey } from "../store/index.ts";

/*
 * An event cursor is the event's place in the log, a server-wide sequence number, enciphered as one
 * AES block. Shown as it is, the distance between two of an organization's cursors would tell it
 * how many events every other organization wrote meanwhile.
 *
 * The block holds the number in its last 8 bytes and zeros before it, and the number stays far below
 * 2^48 in any real database: a block that deciphers otherwise was not made here, so a cursor altered
 * by hand is refused rather than read as some other place in the log.
 */

const keys = new WeakMap<Db, Promise<Buffer>>();

function keyOf(db: Db): Promise<Buffer> {
  let key = keys.get(db);
  if (!key) {
    key = eventCursorKey(db);
    // A failed read (database not reachable) is tried again by the next request.
    key.catch(() => keys.delete(db));
    keys.set(db, key);
  }
  return key;
}

export async function encodeEventCursor(db: Db, seq: number): Promise<string> {
  const block = Buffer.alloc(16);
  block.writeBigUInt64BE(BigInt(seq), 8);
  const cipher = createCipheriv("aes-256-ecb", await keyOf(db), null).setAutoPadding(false);
  return Buffer.concat([cipher.update(block), cipher.final()]).toString("base64url");
}

/** The sequence number a cursor holds, or null when this server did not make it. */
export async function decodeEventCursor(db: Db, cursor: string): Promise<number | null> {
  // The bare number an earlier version gave as NextCursor: still read, so that a reader paging
  // across the upgrade goes on where it was (it tells the reader nothing it was not shown then).
  if (/^\d{1,15}$/.test(cursor)) return Number(cursor);
  if (!/^[A-Za-z0-9_-]{22}$/.test(cursor)) return null;
  const decipher = createDecipheriv("aes-256-ecb", await keyOf(db), null).setAutoPadding(false);
  const block = Buffer.concat([decipher.update(Buffer.from(cursor, "base64url")), decipher.final()]);
  const seq = block.readBigUInt64BE(8);
  if (block.readBigUInt64BE(0) !== 0n || seq >= 1n << 48n) return null;
  return Number(seq);
}
