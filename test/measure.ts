/**
 * With COFLOW_MEASURE set, prints a measured value next to the bound a test asserts (the
 * "measured" column of docs/checks.md comes from these lines: COFLOW_MEASURE=1 npx vitest run).
 */
export function measure(label: string, value: unknown): void {
  if (process.env.COFLOW_MEASURE) console.log(`[measure] ${label}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
}
