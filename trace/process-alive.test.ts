import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { processAlive } from './process-alive.ts';

describe('processAlive', () => {
  it('sees this process', () => {
    expect(processAlive(process.pid)).toBe(true);
  });

  it('does not see a process that has exited', () => {
    const child = spawnSync(process.execPath, ['-e', '']);
    expect(child.status).toBe(0);
    expect(processAlive(child.pid)).toBe(false);
  });
});
