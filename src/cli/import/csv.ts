/**
 * A streaming CSV parser (RFC 4180): comma-separated, fields optionally quoted with `"`, a doubled quote
 * inside a quoted field is one quote, quoted fields may hold commas and line breaks, records end with
 * LF, CRLF or CR, and a UTF-8 byte order mark at the very start is dropped. Text is pushed in chunks of
 * any size (a record may span chunks) and each record is handed over as soon as it is complete, so
 * memory stays bounded by the longest record.
 *
 * It never throws on bad input: a record with a stray quote is still delivered, with `problem` set, so
 * the importer can reject that one row and go on. Lines made only of spaces are skipped.
 */

const COMMA = 44;
const QUOTE = 34;
const LF = 10;
const CR = 13;

enum State {
  FieldStart,
  Unquoted,
  Quoted,
  /** A quote was seen inside a quoted field: either the closing quote or the first of a doubled one. */
  QuoteInQuoted,
}

export interface CsvRecord {
  fields: string[];
  /** The line of the file (1-based) on which the record starts. */
  line: number;
  /** Why the record is malformed, or null. */
  problem: string | null;
}

export class CsvParser {
  private fields: string[] = [];
  /** Text of the current field carried over from earlier chunks (or before a doubled quote). */
  private field = "";
  private state = State.FieldStart;
  /** The line the parser is on, and the one the current record started on. */
  private line = 1;
  private recordLine = 1;
  private quotedRecord = false;
  private problem: string | null = null;
  private started = false;
  /** The previous chunk ended with CR: a LF opening the next chunk belongs to it. */
  private pendingCr = false;

  /** Parses a chunk; calls `emit` for every record completed in it. */
  push(chunk: string, emit: (r: CsvRecord) => void): void {
    let i = 0;
    const n = chunk.length;
    if (!this.started && n > 0) {
      this.started = true;
      if (chunk.charCodeAt(0) === 0xfeff) i = 1;
    }
    if (this.pendingCr) {
      this.pendingCr = false;
      if (n > 0 && chunk.charCodeAt(0) === LF) i = 1;
    }
    let start = i;
    let state = this.state;
    for (; i < n; i++) {
      const c = chunk.charCodeAt(i);
      if (state === State.FieldStart) {
        if (c === QUOTE) {
          state = State.Quoted;
          this.quotedRecord = true;
          start = i + 1;
          continue;
        }
        // Any other character starts an unquoted field and is handled as part of it.
        state = State.Unquoted;
        start = i;
      }
      if (state === State.Unquoted) {
        if (c === COMMA) {
          this.fields.push(this.field + chunk.slice(start, i));
          this.field = "";
          state = State.FieldStart;
        } else if (c === LF || c === CR) {
          this.fields.push(this.field + chunk.slice(start, i));
          this.field = "";
          state = State.FieldStart;
          i = this.endOfLine(chunk, i, c);
          this.endRecord(emit);
        }
      } else if (state === State.Quoted) {
        if (c === QUOTE) {
          this.field += chunk.slice(start, i);
          state = State.QuoteInQuoted;
        } else if (c === LF) {
          this.line++;
        }
      } else if (c === QUOTE) {
        // QuoteInQuoted: a doubled quote is one literal quote.
        this.field += '"';
        state = State.Quoted;
        start = i + 1;
      } else if (c === COMMA) {
        this.fields.push(this.field);
        this.field = "";
        state = State.FieldStart;
      } else if (c === LF || c === CR) {
        this.fields.push(this.field);
        this.field = "";
        state = State.FieldStart;
        i = this.endOfLine(chunk, i, c);
        this.endRecord(emit);
      } else {
        // Text after a closing quote: keep it (as an unquoted continuation) but flag the record.
        this.problem ??=
          "has text after a closing quote: a quoted field must end right before a comma or the end of the line";
        state = State.Unquoted;
        start = i;
      }
    }
    if (state === State.Unquoted || state === State.Quoted) this.field += chunk.slice(start, n);
    this.state = state;
  }

  /** Ends the input: delivers a last record that had no line break after it. */
  end(emit: (r: CsvRecord) => void): void {
    switch (this.state) {
      case State.FieldStart:
        if (this.fields.length === 0) return;
        this.fields.push("");
        break;
      case State.Quoted:
        this.problem ??= "has a quoted field that is never closed (a quote is missing)";
        this.fields.push(this.field);
        break;
      default:
        this.fields.push(this.field);
    }
    this.field = "";
    this.state = State.FieldStart;
    this.endRecord(emit);
  }

  /** Index of the last character of the line break starting at i (CRLF is one break). */
  private endOfLine(chunk: string, i: number, c: number): number {
    this.line++;
    if (c === CR) {
      if (i + 1 < chunk.length) {
        if (chunk.charCodeAt(i + 1) === LF) return i + 1;
      } else {
        this.pendingCr = true;
      }
    }
    return i;
  }

  private endRecord(emit: (r: CsvRecord) => void): void {
    const fields = this.fields;
    const blank = fields.length === 1 && !this.quotedRecord && fields[0]!.trim() === "";
    if (!blank) emit({ fields, line: this.recordLine, problem: this.problem });
    this.fields = [];
    this.problem = null;
    this.quotedRecord = false;
    this.recordLine = this.line;
  }
}
