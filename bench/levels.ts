/** Benchmarks of the reduced levels (Level G, Level T), filled in as those levels land. */
export const benchLevels: Record<string, () => void> = {};
