/**
 * Compile-time type equality, checked by `tsc -p .`. `Equal` uses the compiler's own
 * identity check (the generic-function trick), so `{ a?: string }` and `{ a: string | undefined }`
 * differ, as do `unknown` and `any`; `Flatten` first turns intersections and mapped types
 * into one plain object type, so only the shape is compared, not how it was written.
 *
 * @example
 * const proven: Assert<Equal<v.InferOutput<typeof HelloSchema>, HelloMessage>> = true;
 */
export type Equal<A, B> = (<T>() => T extends Flatten<A> ? 1 : 2) extends <T>() => T extends Flatten<B> ? 1 : 2 ? true : false;

/** Accepts only `true`: `const _: Assert<Equal<A, B>> = true` fails to compile when A and B differ. */
export type Assert<T extends true> = T;

/** Rebuilds object types member by member (through unions and nested objects) so equal shapes compare equal. */
export type Flatten<T> = T extends (...args: never[]) => unknown
  ? T
  : T extends readonly unknown[]
    ? { [K in keyof T]: Flatten<T[K]> }
    : T extends object
      ? { [K in keyof T]: Flatten<T[K]> }
      : T;
