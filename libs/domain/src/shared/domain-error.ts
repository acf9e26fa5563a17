/** Errors the deciders raise; `code` is stable and the API maps it to a status once, in one filter. */
export class DomainError extends Error {
  constructor(
    readonly code: 'invalid-transition' | 'not-found' | 'not-allowed' | 'conflict' | 'invalid',
    message: string,
    /** For `invalid`: the request's field the rule is about, as a 400 names it. */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export function assertNever(value: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(value)}`);
}
