/**
 * An error caused by the user's input (a flag, a config field, a file). The CLI prints its
 * message as one line and exits with code 2, without a stack trace. Messages name the offending
 * field and say how to fix it.
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
