/** Reading the Java version DynamoDB Local needs (local/emulators/java.ts parseJavaMajor); no `java` is run. */
import { describe, expect, it } from 'vitest';
import { parseJavaMajor } from '../../local/emulators/java';

describe('Java version check', () => {
  it('reads the major version from `java -version` in its old and new formats', () => {
    expect(parseJavaMajor('openjdk version "17.0.15" 2025-04-15')).toBe(17);
    expect(parseJavaMajor('java version "1.8.0_392"')).toBe(8);
    expect(parseJavaMajor('openjdk version "21" 2023-09-19')).toBe(21);
    expect(parseJavaMajor('no version here')).toBeUndefined();
  });
});
