// Drives Debian's Chromium through the resident portal with Playwright (playwright-core, no
// downloaded browser). Run by tests/portal_browser_test.cc against a live federation:
//   node portal_test.mjs URL RESIDENT_ID KEY_FILE WRONG_KEY_FILE EXPECTED_RECORDS
// Prints one line per check and exits non-zero on the first failure.
import { chromium } from 'playwright-core';

const [url, residentId, keyFile, wrongKeyFile, expectedText] = process.argv.slice(2);
const expected = Number(expectedText);

function check(condition, what) {
  console.log(`${condition ? 'ok  ' : 'FAIL'} ${what}`);
  if (!condition) throw new Error(what);
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let failed = false;
try {
  const page = await browser.newPage();
  page.on('pageerror', (error) => console.log(`page error: ${error.message}`));
  page.on('console', (message) => console.log(`console: ${message.text()}`));

  // A key that is not the enrolled one is refused.
  await page.goto(url);
  check((await page.title()).includes('自分の情報の利用履歴'), 'the portal opens in Japanese');
  await page.fill('#resident-id', residentId);
  await page.setInputFiles('#key-file', wrongKeyFile);
  await page.click('#sign-in');
  await page.waitForSelector('#message.error', { timeout: 15000 });
  check((await page.textContent('#message')).includes('ログインできませんでした'),
        'a wrong key is refused with a message');

  // The enrolled key signs in, and every record verifies in the browser.
  await page.goto(url);
  await page.fill('#resident-id', residentId);
  await page.setInputFiles('#key-file', keyFile);
  await page.click('#sign-in');
  await page.waitForSelector('#records tbody tr', { timeout: 15000 }).catch(async (error) => {
    console.log(`message shown: ${await page.textContent('#message')}`);
    throw error;
  });
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
  const firstRow = await rows.first().textContent();
  check(firstRow.includes('厚生労働省'), 'the agency is named: 厚生労働省');
  check(firstRow.includes('住民基本台帳の記載事項'), 'the data is named in human words');
  check(firstRow.includes('integration-test'), 'the purpose is shown');

  await page.click('#lang-en');
  check((await page.textContent('th:last-child')) === 'Verified', 'English: the column is "Verified"');
  check((await rows.first().textContent()).includes('Resident registry entry'), 'English: the data is named');
  const englishMarks = await page.locator('#records tbody td.verified').allTextContents();
  check(englishMarks.every((m) => m.includes('Verified')), 'English: every record is verified');

  // Filtering by another agency shows nothing.
  await page.click('#lang-ja');
  await page.selectOption('#agency', 'JP/GOV/MOJ');
  await page.click('#apply');
  await page.waitForFunction(() => document.querySelectorAll('#records tbody tr').length === 0);
  check((await page.textContent('#message')).includes('利用の記録はありません'), 'the agency filter applies');
} catch (error) {
  failed = true;
  console.log(`error: ${error.message}`);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
