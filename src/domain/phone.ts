import { parsePhoneNumberFromString } from "libphonenumber-js/max";

export type PhoneCheck = { ok: true; e164: string } | { ok: false; message: string };

const EXAMPLE = "an E.164 number such as +14155550123 ('+', country code, then the number, no spaces)";

/**
 * Validates a phone number given as E.164. Emergency and short service numbers are refused: they
 * are never valid full-length numbers for their country, and we also refuse anything whose national
 * part is shorter than 6 digits.
 */
export function checkPhoneNumber(raw: unknown): PhoneCheck {
  if (typeof raw !== "string" || raw === "") return { ok: false, message: `must be ${EXAMPLE}.` };
  if (!/^\+[1-9]\d{5,14}$/.test(raw)) {
    return { ok: false, message: `"${mask(raw)}" is not E.164: give ${EXAMPLE}.` };
  }
  const parsed = parsePhoneNumberFromString(raw);
  if (!parsed || parsed.nationalNumber.length < 6 || !parsed.isValid()) {
    return {
      ok: false,
      message:
        "is not a valid phone number for its country (emergency and short service numbers are refused).",
    };
  }
  return { ok: true, e164: parsed.number };
}

/** Error messages may echo input back to the caller, but only a masked form: messages can end up in logs. */
function mask(raw: string): string {
  const s = raw.slice(0, 40);
  return s.length > 4 ? `${s.slice(0, 3)}…${s.slice(-2)}` : s;
}
