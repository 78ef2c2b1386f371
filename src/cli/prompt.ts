import { createInterface } from 'node:readline/promises';

/** Asks on the terminal; resolves to undefined when the operator interrupts (Ctrl-C, end of input) instead of answering. */
export async function askYesNo(question: string): Promise<boolean | undefined> {
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await prompt.question(question)).trim());
  } catch {
    return undefined;
  } finally {
    prompt.close();
  }
}
