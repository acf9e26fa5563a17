/** Errors the deciders raise; `code` is stable and the API maps it to a status once, in one filter. */
export class DomainError extends Error {
  constructor(
    readonly code: 'invalid-transition' | 'not-found' | 'not-allowed' | 'conflict',
    message: string,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export function assertNever(value: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(value)}`);
}
