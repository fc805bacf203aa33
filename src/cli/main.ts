#!/usr/bin/env node
import { configureFaults } from '../core/index.js';
import { runCli } from './program.js';

// Fault points (src/core/faults.ts) stay inert unless LAKE_FAULTPOINT names some: crash tests only.
configureFaults(process.env['LAKE_FAULTPOINT']);

// A command may report failure through process.exitCode and still return normally (doctor, when a
// table does not open): a successful run must not reset that code to 0.
const code = await runCli(process.argv);
if (code !== 0 || process.exitCode === undefined) process.exitCode = code;
