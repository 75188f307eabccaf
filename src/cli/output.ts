import fs from "node:fs";
import { inCI } from "../ci.ts";
import { TwelveError } from "../errors.ts";

export interface OutputOptions {
  json: boolean;
  verbose: boolean;
  stdout?: NodeJS.WritableStream & { isTTY?: boolean };
  stderr?: NodeJS.WritableStream;
  env?: NodeJS.ProcessEnv;
}

/**
 * Everything twelve prints goes through here. Human lines go to stdout; with --json, stdout
 * carries exactly one JSON document and the human lines go to stderr. Colour only on a
 * terminal (or FORCE_COLOR), never with NO_COLOR; CI gets plain lines.
 */
export class Output {
  readonly json: boolean;
  readonly verbose: boolean;
  readonly color: boolean;
  readonly ci: boolean;
  private readonly out: NodeJS.WritableStream;
  private readonly err: NodeJS.WritableStream;
  /** $GITHUB_STEP_SUMMARY: where a GitHub Actions step's Markdown summary goes. */
  private readonly summaryFile: string | undefined;
  /** Inside GitHub Actions: failures also become ::error annotations. */
  private readonly githubActions: boolean;

  constructor(options: OutputOptions) {
    const env = options.env ?? process.env;
    const stdout = options.stdout ?? process.stdout;
    this.json = options.json;
    this.verbose = options.verbose;
    this.out = stdout;
    this.err = options.stderr ?? process.stderr;
    this.ci = inCI(env);
    this.summaryFile = env.GITHUB_STEP_SUMMARY || undefined;
    this.githubActions = env.GITHUB_ACTIONS === "true";
    this.color = colorWanted(env, Boolean((stdout as { isTTY?: boolean }).isTTY));
  }

  /** A line for people: stdout normally, stderr under --json so stdout stays parseable. */
  line(text = ""): void {
    (this.json ? this.err : this.out).write(`${text}\n`);
  }

  debug(text: string): void {
    if (this.verbose) this.err.write(`${this.paint("2", text)}\n`);
  }

  note(text: string): void {
    this.line(`${this.paint("33", "note")} ${text}`);
  }

  /** The command's result under --json. */
  result(value: unknown): void {
    if (this.json) this.out.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /**
   * Progress of long work, on stderr (stdout stays the result's): on a terminal one line
   * rewritten in place, elsewhere a line each time. `done()` ends it.
   */
  progress(): { update(text: string): void; done(): void } {
    const terminal = Boolean((this.err as { isTTY?: boolean }).isTTY) && !this.ci;
    let shown = false;
    return {
      update: (text) => {
        shown = true;
        this.err.write(terminal ? `\r\u001b[2K${this.paint("2", text)}` : `${text}\n`);
      },
      done: () => {
        if (terminal && shown) this.err.write("\r\u001b[2K");
      },
    };
  }

  /**
   * A --json result with one long list, written as it comes (10,000 dead letters need not be
   * held to be printed): `head`'s fields, then `key` with the items. Nothing without --json.
   */
  async resultList(head: Record<string, unknown>, key: string, items: AsyncIterable<unknown>, tail: () => Record<string, unknown> = () => ({})): Promise<void> {
    if (!this.json) {
      for await (const _ of items) void _;
      return;
    }
    const fields = JSON.stringify(head, null, 2).slice(0, -2);
    this.out.write(`${fields}${fields.endsWith("{") ? "" : ","}\n  ${JSON.stringify(key)}: [`);
    let first = true;
    for await (const item of items) {
      this.out.write(`${first ? "\n" : ",\n"}    ${JSON.stringify(item)}`);
      first = false;
    }
    const rest = JSON.stringify(tail(), null, 2).slice(1, -2);
    this.out.write(`${first ? "" : "\n  "}]${rest.trim() ? `,${rest}` : ""}\n}\n`);
  }

  /** Markdown for the GitHub Actions step summary, when there is one (appended, as GitHub expects). */
  summary(markdown: string): void {
    if (!this.summaryFile) return;
    try {
      fs.appendFileSync(this.summaryFile, `${markdown.trimEnd()}\n\n`);
    } catch (error) {
      this.note(`could not write the step summary to ${this.summaryFile}: ${(error as Error).message}`);
    }
  }

  error(error: unknown, command?: string): number {
    const known = error instanceof TwelveError;
    const exitCode = known ? error.exitCode : 1;
    const message = known ? error.message : String((error as Error)?.message ?? error);
    if (this.githubActions) this.err.write(`::error title=twelve${command ? ` ${command}` : ""} failed::${escapeAnnotation(message)}\n`);
    if (command) {
      const hint = known && error.hint ? `\n\n${error.hint}` : "";
      this.summary(`### ❌ twelve ${command} failed\n\n\`\`\`\n${[message, ...(known ? error.details : [])].join("\n")}\n\`\`\`${hint}`);
    }
    if (this.json) {
      this.out.write(`${JSON.stringify({ ok: false, error: known ? { message: error.message, details: error.details, hint: error.hint ?? null, exitCode } : { message: String((error as Error)?.message ?? error), details: [], hint: null, exitCode } }, null, 2)}\n`);
    }
    const lines = known
      ? [`${this.paint("31", "error")} ${error.message}`, ...error.details.map((d) => `  ${d}`), ...(error.hint ? [this.paint("2", error.hint)] : [])]
      : [`${this.paint("31", "twelve crashed (a bug in twelve, please report it):")}`, String((error as Error)?.stack ?? error)];
    this.err.write(`${lines.join("\n")}\n`);
    if (known && this.verbose && error.cause) this.err.write(`${String((error.cause as Error)?.stack ?? error.cause)}\n`);
    return exitCode;
  }

  bold(text: string): string {
    return this.paint("1", text);
  }

  dim(text: string): string {
    return this.paint("2", text);
  }

  /**
   * Each line painted on its own: a code left open across a newline colours whatever the next
   * line is to whoever reads the stream line by line (a CI log, a prefixing runner).
   */
  paint(code: string, text: string): string {
    if (!this.color) return text;
    return text
      .split("\n")
      .map((line) => (line === "" ? line : `\u001b[${code}m${line}\u001b[0m`))
      .join("\n");
  }
}

/**
 * Colour on a terminal; NO_COLOR (any value but empty) turns it off; FORCE_COLOR turns it on
 * anywhere, except as "0" or "false", which turn it off, as Node and chalk read it.
 */
export function colorWanted(env: NodeJS.ProcessEnv, terminal: boolean): boolean {
  if (env.NO_COLOR) return false;
  const force = env.FORCE_COLOR;
  if (force === undefined) return terminal;
  return force !== "0" && force.toLowerCase() !== "false";
}

/** A GitHub workflow command's message: %, CR and LF escaped as the runner expects. */
function escapeAnnotation(text: string): string {
  return text.replaceAll("%", "%25").replaceAll("\r", "%0D").replaceAll("\n", "%0A");
}

export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1_000_000) return `${(bytes / 1000).toFixed(1)} kB`;
  return `${(bytes / 1_000_000).toFixed(2)} MB`;
}

/** Left-aligned columns, for tables of processes. */
export function table(rows: string[][]): string[] {
  const widths = rows.reduce<number[]>((w, row) => row.map((cell, i) => Math.max(w[i] ?? 0, visibleLength(cell))), []);
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell + " ".repeat((widths[i] ?? 0) - visibleLength(cell)))).join("  ").trimEnd());
}

function visibleLength(text: string): number {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;]*m/g, "").length;
}
