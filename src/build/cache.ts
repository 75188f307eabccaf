import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { TWELVE_VERSION } from "./version.ts";

/**
 * Which twelve computed the answers: its version, and the file of the code that computed them
 * (a checkout's source changes without a new version). Answers of another are never read back.
 */
function makerOf(codeUrl: string): string {
  const file = fileURLToPath(codeUrl);
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  return `${TWELVE_VERSION} ${file} ${stat?.mtimeMs ?? 0} ${stat?.size ?? 0}`;
}

/**
 * The most answers a cache keeps unless told otherwise: those used by the latest runs, the
 * oldest dropped first. A source file's answers are small (its send() calls, its entry's facts).
 */
const MAX_ENTRIES = 5_000;

/** A key for an answer computed from these texts alone. */
export function contentKey(...parts: string[]): string {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(`\0${part.length}\0`).update(part);
  return hash.digest("base64url");
}

/**
 * A cache in the app's .twelve/cache/<name>.json (git-ignored with the build) of answers that
 * depend only on what their key hashes: what a source file's text says (its send() calls, its
 * default export), so a build reads each file it saw before without parsing it again. Nothing
 * in it is trusted beyond its key: a file that fails to read or parse, or that another twelve
 * wrote, is an empty cache; twelve builds or dev runs side by side each write it whole, and
 * any of their versions is a right one.
 */
export class FileCache<T> {
  readonly #file: string;
  readonly #maker: string;
  readonly #maxEntries: number;
  #entries: Map<string, T> | undefined;
  #changed = false;

  constructor(root: string, name: string, codeUrl: string, maxEntries = MAX_ENTRIES) {
    this.#file = path.join(root, ".twelve", "cache", `${name}.json`);
    this.#maker = makerOf(codeUrl);
    this.#maxEntries = maxEntries;
  }

  get(key: string): T | undefined {
    const entries = this.#load();
    const value = entries.get(key);
    if (value !== undefined) {
      // Used again: kept the longest.
      entries.delete(key);
      entries.set(key, value);
    }
    return value;
  }

  set(key: string, value: T): void {
    const entries = this.#load();
    entries.delete(key);
    entries.set(key, value);
    this.#changed = true;
  }

  /** Writes what changed since the last save (into a file of its own, renamed over the old one). */
  save(): void {
    if (!this.#changed || !this.#entries) return;
    this.#changed = false;
    const kept = [...this.#entries].slice(-this.#maxEntries);
    const temporary = `${this.#file}.${process.pid}.${Date.now()}.tmp`;
    try {
      fs.mkdirSync(path.dirname(this.#file), { recursive: true });
      fs.writeFileSync(temporary, JSON.stringify({ maker: this.#maker, entries: Object.fromEntries(kept) }));
      fs.renameSync(temporary, this.#file);
    } catch {
      // A cache that cannot be written (a read-only checkout) only means the next run parses again.
      fs.rmSync(temporary, { force: true });
    }
  }

  #load(): Map<string, T> {
    if (this.#entries) return this.#entries;
    this.#entries = new Map();
    try {
      const stored = JSON.parse(fs.readFileSync(this.#file, "utf8")) as { maker?: unknown; entries?: Record<string, T> };
      if (stored.maker === this.#maker && stored.entries && typeof stored.entries === "object") this.#entries = new Map(Object.entries(stored.entries));
    } catch {
      // None yet, or unreadable: start empty.
    }
    return this.#entries;
  }
}

/**
 * What files' texts say, each worked out once: the answer for the text a file had when last
 * asked in this run (a file shared by processes, twelve dev's rebuilds), else the one an earlier
 * run kept in `cache` (keyed by the loader and the text), else `work()`'s, kept for the next run.
 */
export class TextAnswers<T> {
  readonly #last = new Map<string, { text: string; answer: Promise<T> }>();

  answer(file: string, text: string, loader: string, cache: FileCache<T> | undefined, work: () => Promise<T>): Promise<T> {
    const known = this.#last.get(file);
    if (known?.text === text) return known.answer;
    const key = cache && contentKey(loader, text);
    const kept = key === undefined ? undefined : cache?.get(key);
    const answer = kept !== undefined ? Promise.resolve(kept) : work().then((value) => (key !== undefined && cache?.set(key, value), value));
    this.#last.set(file, { text, answer });
    return answer;
  }
}

const caches = new Map<string, FileCache<unknown>>();

/**
 * The app's cache of this name, one object per run (twelve dev's rebuilds share it); `codeUrl`:
 * import.meta.url of the module whose answers it keeps; `maxEntries`: how many it keeps.
 */
export function fileCache<T>(root: string, name: string, codeUrl: string, maxEntries?: number): FileCache<T> {
  const key = `${root}\0${name}`;
  let cache = caches.get(key);
  if (!cache) caches.set(key, (cache = new FileCache<unknown>(root, name, codeUrl, maxEntries)));
  return cache as FileCache<T>;
}
