import { setSyncCheckDefault } from '../src/engine/engine.js';

// Every engine the suite builds checks the sync rule: a forgotten `yield SYNC` fails the test.
setSyncCheckDefault(true);
