/**
 * Standard Schema (https://standardschema.dev, `@standard-schema/spec` v1): the interface zod
 * (3.24+), valibot, arktype and others implement. Its types are copied here, as the spec asks
 * libraries to do, so twelve depends on no validation library.
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly "~standard": StandardSchemaProps<Input, Output>;
}

export interface StandardSchemaProps<Input = unknown, Output = Input> {
  readonly version: 1;
  readonly vendor: string;
  readonly validate: (value: unknown) => StandardResult<Output> | Promise<StandardResult<Output>>;
  /** Types only: never read at run time. */
  readonly types?: { readonly input: Input; readonly output: Output } | undefined;
}

export type StandardResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: ReadonlyArray<StandardIssue> };

export interface StandardIssue {
  readonly message: string;
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined;
}

export type SchemaInput<S extends StandardSchemaV1> = NonNullable<S["~standard"]["types"]>["input"];
export type SchemaOutput<S extends StandardSchemaV1> = NonNullable<S["~standard"]["types"]>["output"];

export function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  const props = (value as { "~standard"?: { version?: unknown; validate?: unknown } } | null)?.["~standard"];
  return !!props && props.version === 1 && typeof props.validate === "function";
}

/** "body.to: Invalid email address; body.items[0]: Required": every issue, with where it is. */
export function describeIssues(issues: ReadonlyArray<StandardIssue>): string {
  return issues
    .map((issue) => {
      const place = (issue.path ?? []).reduce<string>((at, segment) => {
        const key = typeof segment === "object" && segment !== null ? segment.key : segment;
        if (typeof key === "number") return `${at}[${key}]`;
        const name = String(key);
        return /^[A-Za-z_$][\w$]*$/.test(name) ? `${at}.${name}` : `${at}[${JSON.stringify(name)}]`;
      }, "body");
      return `${place}: ${issue.message}`;
    })
    .join("; ");
}

/** Runs a schema: the value it gives back, or the issues as one line of text. */
export async function validate<Output>(schema: StandardSchemaV1<unknown, Output>, value: unknown): Promise<{ value: Output } | { issues: string }> {
  const result = await schema["~standard"].validate(value);
  if (result.issues) return { issues: describeIssues(result.issues) || "the schema refused the body (it gave no reason)" };
  return { value: result.value };
}

/**
 * The schemas this bundle knows, by worker name. A worker process's wrapper registers its own
 * module's schema when it loads it (requireHandler), so send() validates there; a process that
 * is not that worker has no way to have its schema (the worker's module is not in its bundle,
 * and twelve does not put it there: it would run the worker's imports in the sender). There the
 * type check in the editor (`twelve types`) is the sender's guard, and the worker's own check
 * dead-letters a body that gets through. On globalThis under a registered symbol, like the
 * failure registry: the wrapper's copy of this module and the user's may be two.
 */
const KEY = Symbol.for("twelve.runtime.schemas");
const registry = ((globalThis as Record<symbol, unknown>)[KEY] ??= new Map<string, StandardSchemaV1>()) as Map<string, StandardSchemaV1>;

export function registerSchema(worker: string, schema: StandardSchemaV1): void {
  registry.set(worker, schema);
}

export function schemaOf(worker: string): StandardSchemaV1 | undefined {
  return registry.get(worker);
}
