/** import --allow-new-topic says that the topic changed (never "same topic"), in text and in --json. */
import { expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { pushCertIssuer } from '../helpers/deploy-records.js';
import { mdmTopic } from '../helpers/fake-apple.js';
import { inProcessEnv, runInProcess } from '../helpers/in-process.js';

it('a renewal of another topic, allowed: "Replaced … NEW topic … (was …)", the warning, and replacedTopic', async () => {
  const { issue } = pushCertIssuer(tempDir(), new Date());
  const [before, after] = [mdmTopic(), mdmTopic()];
  const env = inProcessEnv();
  const first = await runInProcess(['import', issue(before, 100).file, '--name', 'acme'], { env });
  expect(first.code, first.stderr).toBe(0);
  const changed = issue(after, 400).file;
  const r = await runInProcess(['import', changed, '--name', 'acme', '--allow-new-topic'], { env });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toContain(`Replaced acme: NEW topic ${after} (was ${before})`);
  expect(r.stdout).not.toContain('same topic');
  expect(r.stderr).toMatch(/re-enroll/);
  const again = issue(mdmTopic(), 500).file;
  const json = await runInProcess(['import', again, '--name', 'acme', '--allow-new-topic', '--json'], { env });
  expect(json.code, json.stderr).toBe(0);
  expect(JSON.parse(json.stdout)).toMatchObject({ renewal: true, replacedTopic: after });
});
