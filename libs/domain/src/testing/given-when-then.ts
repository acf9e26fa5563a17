/**
 * Given/when/then for deciders: given past events, when a command, then the new events (or an error).
 * `given([...]).when(command).then([...])` reads like the policy it checks.
 */
export interface Decider<Command, Event, State> {
  decide(command: Command, state: State): Event[];
  evolve(state: State, event: Event): State;
  initialState(): State;
}

export function specFor<Command, Event, State>(decider: Decider<Command, Event, State>) {
  return {
    given(events: Event[]) {
      const state = events.reduce(decider.evolve, decider.initialState());
      return {
        when(command: Command) {
          const run = () => decider.decide(command, state);
          return {
            then(expected: Event[]) {
              expect(run()).toEqual(expected);
            },
            thenMatches(expected: unknown[]) {
              expect(run()).toMatchObject(expected);
            },
            thenThrows(code: string, message?: RegExp) {
              let caught: unknown;
              try {
                run();
              } catch (error) {
                caught = error;
              }
              expect(caught).toMatchObject({ code });
              if (message) expect((caught as Error).message).toMatch(message);
            },
          };
        },
      };
    },
  };
}
