import { serviceModel, type AwsCall, type Model } from "./aws-requests.ts";

// What AWS would refuse in a call's input, by its service model: required members, types,
// enums, lengths, ranges and patterns. moto accepts nearly anything; this is how the tests hold
// twelve to what AWS accepts.

/** Patterns this translation cannot hold to Java's meaning: skipped, never failed on (see untranslatablePatterns). */
const skipped = new Set<string>();
const compiled = new Map<string, RegExp | undefined>();

/**
 * A botocore pattern (Java's regex dialect, matched against the whole value as AWS's services
 * do) as a JavaScript RegExp, or undefined when JavaScript would read it differently: Java-only
 * syntax (possessive quantifiers, atomic groups, \Q..\E, \A \Z \z, class intersections, Java's
 * named classes) is skipped rather than guessed at.
 */
export function javaPattern(pattern: string): RegExp | undefined {
  if (compiled.has(pattern)) return compiled.get(pattern);
  let regex: RegExp | undefined;
  const javaOnly = /[*+?}]\+|\(\?>|\\[QEAZzGhHRvVX]|&&|\\p\{(?:java|Is|In|Alpha|Alnum|Punct|Graph|Print|Blank|Cntrl|XDigit|Space|Lower|Upper|ASCII)|\\x\{/.test(pattern);
  if (!javaOnly) {
    try {
      // \p{..} needs the u flag; without it, escapes such as \- or \: inside a class stay literal, as in Java.
      regex = new RegExp(`^(?:${pattern})$`, /\\p\{/.test(pattern) ? "u" : "");
    } catch {
      regex = undefined;
    }
  }
  if (!regex) skipped.add(pattern);
  compiled.set(pattern, regex);
  return regex;
}

/** The patterns met so far that were not checked, for the report. */
export function untranslatablePatterns(): string[] {
  return [...skipped];
}

/** What AWS would refuse in a call's input, one line each ("Lambda.CreateFunction Timeout: 1000 is above the maximum 900"). */
export function validateCall(call: AwsCall): string[] {
  const model = serviceModel(call.service);
  const shape = model.operations[call.operation]?.input?.shape;
  const problems: string[] = [];
  if (shape) check(model, shape, call.input, "", problems);
  return problems.map((p) => `${call.service}.${call.operation} ${p}`);
}

function check(model: Model, shapeName: string, value: unknown, at: string, problems: string[]): void {
  const shape = model.shapes[shapeName];
  if (!shape || shape.document) return;
  const where = at || "input";
  const say = (what: string): void => {
    problems.push(`${where}: ${what}`);
  };
  const length = (n: number, unit: string) => {
    if (shape.min !== undefined && n < shape.min) say(`${n} ${unit}, fewer than the minimum ${shape.min}`);
    if (shape.max !== undefined && n > shape.max) say(`${n} ${unit}, more than the maximum ${shape.max}`);
  };
  switch (shape.type) {
    case "structure": {
      if (!value || typeof value !== "object" || Array.isArray(value)) return say(`expected a structure, got ${JSON.stringify(value)}`);
      const object = value as Record<string, unknown>;
      for (const name of shape.required ?? []) if (object[name] === undefined || object[name] === null) say(`required member ${name} is missing`);
      for (const [name, v] of Object.entries(object)) {
        const member = shape.members?.[name];
        if (!member) say(`${name} is not a member of ${shapeName}`);
        else if (v !== undefined && v !== null) check(model, member.shape, v, at ? `${at}.${name}` : name, problems);
      }
      return;
    }
    case "list":
      if (!Array.isArray(value)) return say(`expected a list, got ${JSON.stringify(value)}`);
      length(value.length, "items");
      value.forEach((v, i) => check(model, shape.member?.shape ?? "", v, `${where}[${i}]`, problems));
      return;
    case "map": {
      if (!value || typeof value !== "object") return say(`expected a map, got ${JSON.stringify(value)}`);
      const entries = Object.entries(value);
      length(entries.length, "entries");
      for (const [k, v] of entries) {
        check(model, shape.key?.shape ?? "", k, `${where} key ${JSON.stringify(k)}`, problems);
        check(model, shape.value?.shape ?? "", v, `${where}[${JSON.stringify(k)}]`, problems);
      }
      return;
    }
    case "string": {
      if (typeof value !== "string") return say(`expected a string, got ${JSON.stringify(value)}`);
      const shown = JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}...` : value);
      if (shape.enum && !shape.enum.includes(value)) say(`${shown} is not one of ${shape.enum.join(", ")}`);
      // Length counts characters (code points), as AWS's length constraints do.
      const chars = [...value].length;
      if (shape.min !== undefined && chars < shape.min) say(`${shown} is ${chars} characters, fewer than the minimum ${shape.min}`);
      if (shape.max !== undefined && chars > shape.max) say(`${shown} is ${chars} characters, more than the maximum ${shape.max}`);
      const regex = shape.pattern === undefined ? undefined : javaPattern(shape.pattern);
      if (regex && !regex.test(value)) say(`${shown} does not match the pattern ${shape.pattern}`);
      return;
    }
    case "integer":
    case "long":
    case "double":
    case "float":
      if (typeof value !== "number" || Number.isNaN(value)) return say(`expected a number, got ${JSON.stringify(value)}`);
      if ((shape.type === "integer" || shape.type === "long") && !Number.isInteger(value)) say(`${value} is not a whole number`);
      if (shape.min !== undefined && value < shape.min) say(`${value} is below the minimum ${shape.min}`);
      if (shape.max !== undefined && value > shape.max) say(`${value} is above the maximum ${shape.max}`);
      return;
    case "boolean":
      if (typeof value !== "boolean") say(`expected true or false, got ${JSON.stringify(value)}`);
      return;
    case "blob": {
      const bytes = Buffer.isBuffer(value) ? value.length : typeof value === "string" ? Buffer.from(value, "base64").length : -1;
      if (bytes < 0) return say("expected binary data");
      length(bytes, "bytes");
      return;
    }
    default:
      // timestamps travel as numbers or strings, depending on the protocol: nothing to hold them to here.
      return;
  }
}
