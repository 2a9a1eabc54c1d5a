import pino from "pino";

export type Logger = pino.Logger;

/**
 * Logs carry ids, never PII. The redaction list is a net under that rule: fields that could hold a
 * phone number, a name, data or a transcript are censored wherever they appear.
 */
export const REDACT_PATHS = [
  "PhoneNumber",
  "phoneNumber",
  "phone_number",
  "ContactName",
  "contactName",
  "Data",
  "data",
  "Transcript",
  "transcript",
  "To",
  "From",
  "Summary",
  "Result",
  "req.headers.authorization",
  "*.PhoneNumber",
  "*.ContactName",
  "*.Data",
  "*.Transcript",
  "*.To",
  "*.From",
  "*.phone_number",
  "*.contact_name",
  "*.data",
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, redact: { paths: REDACT_PATHS, censor: "[redacted]" } }, destination);
}
