import { it, expect } from 'vitest';
import { TaskState } from '../../src/engine/engine.js';
it('enum', () => { expect(TaskState.Blocked).toBe(2); });
