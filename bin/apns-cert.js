#!/usr/bin/env node
import { main } from '../dist/bundle/apns-cert.js';

await main();
