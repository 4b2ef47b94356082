/**
 * A secret value that does not print itself: `String(secret)`, `JSON.stringify` and `util.inspect`
 * all show `[secret]`, so a secret cannot leak through a log line or an error by accident.
 */
export class Secret {
  readonly #value: string;
  /** Where the value came from, e.g. `secret://env/DB_PASSWORD`; safe to log. */
  readonly ref: string;

  constructor(value: string, ref: string) {
    this.#value = value;
    this.ref = ref;
  }

  /** The secret itself; call it only where the value is used. */
  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return '[secret]';
  }

  toJSON(): string {
    return '[secret]';
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `Secret(${this.ref})`;
  }
}
