// Drives Debian's Chromium through the resident portal with Playwright (playwright-core, no
// downloaded browser). Run by tests/portal_browser_test.cc against a live federation:
//   node portal_test.mjs URL RESIDENT_ID KEY_FILE WRONG_KEY_FILE EXPECTED_RECORDS SEEN_SIZE SEEN_ROOT
// SEEN_SIZE and SEEN_ROOT (base64) are an earlier signed tree head of the same ledger, which
// the browser is made to remember as the last one it saw. Prints one line per check and exits
// non-zero on the first failure.
import { chromium } from 'playwright-core';

const [url, residentId, keyFile, wrongKeyFile, expectedText, seenSize, seenRoot, anchorFingerprint] =
  process.argv.slice(2);
const expected = Number(expectedText);
const SEEN_HEAD_KEY = 'renkei.seenTreeHead.v1';
const PURPOSE = 'integration-test';
const FORGED = 'tampered-purpose';  // as long as PURPOSE, so the entry stays well formed

function check(condition, what) {
  console.log(`${condition ? 'ok  ' : 'FAIL'} ${what}`);
  if (!condition) throw new Error(what);
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const cspViolations = [];

// A page of its own browser context (its own localStorage).
async function newPage() {
  const page = await browser.newPage();
  page.on('pageerror', (error) => console.log(`page error: ${error.message}`));
  page.on('console', (message) => {
    console.log(`console: ${message.text()}`);
    if (message.text().includes('Content Security Policy')) cspViolations.push(message.text());
  });
  return page;
}

// Signs in with the enrolled key on a page already at the portal; waits for the first page.
async function signIn(page) {
  await page.fill('#resident-id', residentId);
  await page.setInputFiles('#key-file', keyFile);
  await page.click('#sign-in');
  await page.waitForSelector('#records tbody tr', { timeout: 15000 }).catch(async (error) => {
    console.log(`message shown: ${await page.textContent('#message')}`);
    throw error;
  });
}

// Rewrites every /api/records answer with `tamper(json)` on its way to the page.
async function tamperRecords(page, tamper) {
  await page.route('**/api/records', async (route) => {
    const response = await route.fetch();
    const json = await response.json();
    tamper(json);
    await route.fulfill({ response, json });
  });
}

let failed = false;
try {
  const page = await newPage();

  // A key that is not the enrolled one is refused.
  const opened = await page.goto(url);
  check((await page.title()).includes('自分の情報の利用履歴'), 'the portal opens in Japanese');
  const pageHeaders = opened.headers();
  check((pageHeaders['content-security-policy'] || '').includes("default-src 'self'") &&
        pageHeaders['content-security-policy'].includes("frame-ancestors 'none'"),
        "the page carries Content-Security-Policy default-src 'self'; frame-ancestors 'none'");
  check(pageHeaders['x-content-type-options'] === 'nosniff', 'the page carries X-Content-Type-Options: nosniff');
  await page.fill('#resident-id', residentId);
  await page.setInputFiles('#key-file', wrongKeyFile);
  await page.click('#sign-in');
  await page.waitForSelector('#message.error', { timeout: 15000 });
  check((await page.textContent('#message')).includes('ログインできませんでした'),
        'a wrong key is refused with a message');

  // The browser last saw an earlier tree head of this ledger.
  await page.goto(url);
  await page.evaluate(([key, size, root]) => localStorage.setItem(key, JSON.stringify({ size, root })),
                      [SEEN_HEAD_KEY, seenSize, seenRoot]);

  // The enrolled key signs in, and every record verifies in the browser.
  await signIn(page);
  while (await page.isVisible('#more')) {
    const before = await page.locator('#records tbody tr').count();
    await page.click('#more');
    await page.waitForFunction((n) => document.querySelectorAll('#records tbody tr').length > n, before);
  }
  const rows = page.locator('#records tbody tr');
  check(await rows.count() === expected, `${expected} records are listed (got ${await rows.count()})`);
  const marks = await page.locator('#records tbody td.verified').allTextContents();
  check(marks.length === expected && marks.every((m) => m.includes('検証済み')),
        'every record carries the verified mark');
  check((await page.textContent('#tree-head')).includes('検証済み'), 'the tree head signature verifies');
  check((await page.textContent('#consistency')).includes(`(${seenSize} 件) からの一貫性: 検証済み`),
        `the tree head is proven to extend the one seen before (${seenSize} entries)`);
  const remembered = JSON.parse(await page.evaluate((key) => localStorage.getItem(key), SEEN_HEAD_KEY));
  const shownSize = (await page.textContent('#tree-head')).match(/(\d+) 件/)[1];
  check(remembered.size === shownSize && Number(shownSize) > Number(seenSize),
        `the browser now remembers the new tree head (${remembered.size} entries)`);
  const firstRow = await rows.first().textContent();
  check(firstRow.includes('厚生労働省'), 'the agency is named: 厚生労働省');
  check(firstRow.includes('住民基本台帳の記載事項'), 'the data is named in human words');
  check(firstRow.includes(PURPOSE), 'the purpose is shown');

  // The tree-head certificate's fingerprint, exactly as the anchor names it.
  const keyResponse = await page.request.get(new URL('api/tree-head-key', url).href);
  check(keyResponse.headers()['cache-control'] === 'no-store', 'API answers carry Cache-Control: no-store');
  check((await page.textContent('#key-fingerprint')).includes(anchorFingerprint),
        `the anchor's certificate fingerprint is shown: ${anchorFingerprint}`);

  await page.click('#lang-en');
  check((await page.textContent('th:last-child')) === 'Verified', 'English: the column is "Verified"');
  check((await rows.first().textContent()).includes('Resident registry entry'), 'English: the data is named');
  const englishMarks = await page.locator('#records tbody td.verified').allTextContents();
  check(englishMarks.every((m) => m.includes('Verified')), 'English: every record is verified');
  check((await page.textContent('#key-fingerprint')).includes(anchorFingerprint), 'English: the fingerprint is shown');

  // Filtering by another agency shows nothing.
  await page.click('#lang-ja');
  await page.selectOption('#agency', 'JP/GOV/MOJ');
  await page.click('#apply');
  await page.waitForFunction(() => document.querySelectorAll('#records tbody tr').length === 0);
  check((await page.textContent('#message')).includes('利用の記録はありません'), 'the agency filter applies');
  check(cspViolations.length === 0, 'the page runs under its Content-Security-Policy without violations');

  // Changed in transit: a record's entry bytes (its purpose), another's entry cut short.
  const entryTampered = await newPage();
  await tamperRecords(entryTampered, (json) => {
    const records = json.response.records;
    const entry = Buffer.from(records[0].entry, 'base64');
    const at = entry.indexOf(PURPOSE);
    if (at < 0) throw new Error('the purpose is not in the entry bytes');
    entry.write(FORGED, at);
    records[0].entry = entry.toString('base64');
    records[1].entry = Buffer.from(records[1].entry, 'base64').subarray(0, 10).toString('base64');
  });
  await entryTampered.goto(url);
  await signIn(entryTampered);
  const tamperedRows = entryTampered.locator('#records tbody tr');
  for (const index of [0, 1]) {
    const row = tamperedRows.nth(index);
    check(await row.locator('td.verified').count() === 0 && await row.locator('td.unverified').count() === 1,
          `a record whose entry was ${index ? 'cut short' : 'altered'} in transit is not verified`);
    check((await row.textContent()).includes('検証失敗'), `it carries the failure mark (${index})`);
  }
  check(!(await entryTampered.textContent('#records')).includes(FORGED), 'the altered purpose is not shown');
  check(await entryTampered.locator('#records tbody td.verified').count() === (await tamperedRows.count()) - 2,
        'the other records still verify');

  // Changed in transit: the server's parsed copy of every record; the entry bytes intact.
  const recordTampered = await newPage();
  await tamperRecords(recordTampered, (json) => {
    for (const proven of json.response.records) {
      proven.record.purpose = FORGED;
      proven.record.client = 'JP/GOV/MOJ/forged';
    }
  });
  await recordTampered.goto(url);
  await signIn(recordTampered);
  const untouched = recordTampered.locator('#records tbody tr');
  check(await recordTampered.locator('#records tbody td.verified').count() === await untouched.count(),
        'with only the record copy altered, every record still verifies');
  const shownText = await recordTampered.textContent('#records');
  check(!shownText.includes(FORGED) && !shownText.includes('forged'),
        'the altered record copy is not what is shown');
  check((await untouched.first().textContent()).includes(PURPOSE), 'the purpose shown is the verified one');

  // A tree head that does not extend the one the browser saw: a warning, nothing verified,
  // and the remembered head stays.
  const forked = await newPage();
  await forked.goto(url);
  const forgedSeen = JSON.stringify({ size: String(Number(shownSize) - 1), root: Buffer.alloc(32, 7).toString('base64') });
  await forked.evaluate(([key, value]) => localStorage.setItem(key, value), [SEEN_HEAD_KEY, forgedSeen]);
  await signIn(forked);
  check(await forked.isVisible('#consistency.warning'), 'an inconsistent tree head shows a warning');
  check((await forked.textContent('#consistency')).includes('警告'), 'the warning says so in words');
  check((await forked.textContent('#tree-head')).includes('検証失敗'), 'the tree head is not marked verified');
  check(await forked.locator('#records tbody td.verified').count() === 0, 'no record is marked verified');
  check(await forked.evaluate((key) => localStorage.getItem(key), SEEN_HEAD_KEY) === forgedSeen,
        'the unverified tree head is not remembered');
} catch (error) {
  failed = true;
  console.log(`error: ${error.message}`);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
