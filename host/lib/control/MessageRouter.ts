import type { OperatorMessage } from './OperatorConnection.ts';

/**
 * Routes one connection's messages to whoever waits on them (a command's result, the retained documents, the
 * fleet's records): set `dispatch` as the connection's onMessage, then add and remove handlers per exchange.
 */
export class MessageRouter {
  readonly #handlers = new Set<(message: OperatorMessage) => void>();

  readonly dispatch = (message: OperatorMessage): void => {
    for (const handler of this.#handlers) handler(message);
  };

  /** Adds a handler; the returned function removes it. */
  on(handler: (message: OperatorMessage) => void): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }
}
