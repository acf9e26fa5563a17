/** Waits for something the router does after the request has been answered (it reads the log behind us). */
export async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  for (let attempt = 0; attempt < 300; attempt += 1) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export const answers = (yes: number) => Object.fromEntries(Array.from({ length: 24 }, (_, n) => [`Q${n + 1}`, n < yes ? 'yes' : 'no']));
