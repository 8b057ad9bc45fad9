/** A relay configuration the relay refuses to start with (the CLI exits with code 2). */
export class ConfigError extends Error {}
