/** DynamoDB Local needs `java` >= 17 on PATH; this checks it with one readable error. */
import { spawnSync } from 'node:child_process';
import { LocalStartupError } from '../errors';

export const MIN_JAVA_MAJOR = 17;

/** Parses the major version from `java -version` output ("17.0.15", "1.8.0_392" -> 8, "21" -> 21). */
export function parseJavaMajor(versionOutput: string): number | undefined {
  const match = /version "(\d+)(?:\.(\d+))?[^"]*"/.exec(versionOutput);
  if (!match?.[1]) return undefined;
  const first = Number(match[1]);
  return first === 1 && match[2] ? Number(match[2]) : first;
}

/** Returns the Java major version or throws a LocalStartupError. */
export function assertJava(command = 'java'): number {
  const result = spawnSync(command, ['-version'], { encoding: 'utf8' });
  if (result.error) {
    const code = (result.error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new LocalStartupError(
        `\`${command}\` was not found on PATH: DynamoDB Local needs Java ${MIN_JAVA_MAJOR} or newer (e.g. apt-get install openjdk-17-jre-headless)`,
      );
    }
    throw new LocalStartupError(`could not run \`${command} -version\`: ${result.error.message}`);
  }
  const major = parseJavaMajor(`${result.stderr}\n${result.stdout}`);
  if (major === undefined) throw new LocalStartupError(`could not read the Java version from \`${command} -version\``);
  if (major < MIN_JAVA_MAJOR) {
    throw new LocalStartupError(`Java ${major} found, but DynamoDB Local needs Java ${MIN_JAVA_MAJOR} or newer`);
  }
  return major;
}
