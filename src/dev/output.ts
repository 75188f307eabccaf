/** Where twelve dev's lines go: the CLI's Output, or a script's own (twelve/api). */
export interface Printer {
  line(text: string): void;
  /** Text in an ANSI colour (when colour is on). */
  paint(code: string, text: string): string;
}

// Like foreman: one stream of lines, each prefixed by its process in its own colour, and
// twelve's own events (ready, reload, crash, retry, dead-letter) set apart in bold.
const COLOURS = ["36", "33", "32", "35", "34", "96", "93", "92", "95", "94"];
/** Red for what went wrong, yellow for what needs a look; the rest (ready, clock, stop) green. */
const EVENT_COLOURS: Record<string, string> = { crash: "31", "dead-letter": "31", error: "31", warn: "33", retry: "33", reload: "33" };

/** One line of twelve dev's log, as the dashboard shows it: a process's line, or one of twelve's events. */
export interface LogEntry {
  time: number;
  /** The process that printed it; null for twelve's own events. */
  process: string | null;
  /** The event's kind (ready, crash, retry...) for twelve's own lines. */
  kind?: string;
  text: string;
  /** The ANSI colour code the terminal shows it in. */
  colour: string;
}

export class DevLog {
  readonly #out: Printer;
  /** Who else reads the log (twelve dev's dashboard). */
  readonly #taps = new Set<(entry: LogEntry) => void>();
  readonly #colours = new Map<string, string>();
  #width = 6;

  constructor(out: Printer, names: string[] = []) {
    this.#out = out;
    this.setNames(names);
  }

  setNames(names: string[]): void {
    for (const name of names) if (!this.#colours.has(name)) this.#colours.set(name, COLOURS[this.#colours.size % COLOURS.length] as string);
    this.#width = Math.max(6, ...names.map((n) => n.length));
  }

  /** The ANSI colour of a process's lines. */
  colourOf(name: string): string {
    return this.#colours.get(name) ?? "37";
  }

  /** Calls `tap` with every line from now on; returns how to stop. */
  tap(tap: (entry: LogEntry) => void): () => void {
    this.#taps.add(tap);
    return () => this.#taps.delete(tap);
  }

  /** A line a process printed. */
  process(name: string, line: string): void {
    const colour = this.colourOf(name);
    this.#out.line(`${this.#out.paint(colour, name.padEnd(this.#width))} | ${line}`);
    if (this.#taps.size) this.#emit({ time: Date.now(), process: name, text: line, colour });
  }

  /** One of twelve's own events, about a process or the whole formation. */
  event(kind: string, text: string): void {
    const colour = EVENT_COLOURS[kind] ?? "32";
    this.#out.line(`${this.#out.paint("1", "twelve".padEnd(this.#width))} | ${this.#out.paint(`1;${colour}`, kind)} ${text}`);
    if (this.#taps.size) this.#emit({ time: Date.now(), process: null, kind, text, colour });
  }

  #emit(entry: LogEntry): void {
    for (const tap of this.#taps) tap(entry);
  }
}
